using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CvNotebooks.Runner.Documents;

/// An error in a notebook file that a user must fix; the message names the file and, where known, the cell.
public sealed class NotebookFormatException(string message) : Exception(message);

/// An nbformat 4 notebook as Polyglot Notebooks writes it. The JSON tree is kept whole so that metadata we do
/// not understand survives a round trip; the typed accessors read and write into that tree.
public sealed class Notebook
{
    public const string DefaultKernelName = "csharp";

    public JsonObject Root { get; }
    public List<Cell> Cells { get; }
    public string SourceName { get; }

    private Notebook(JsonObject root, List<Cell> cells, string sourceName)
    {
        Root = root;
        Cells = cells;
        SourceName = sourceName;
    }

    public static Notebook Load(string path)
    {
        if (!File.Exists(path))
            throw new NotebookFormatException($"{path}: file not found");
        return Parse(File.ReadAllText(path, Encoding.UTF8), path);
    }

    public static Notebook Parse(string json, string sourceName = "<notebook>")
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new NotebookFormatException($"{sourceName}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {FirstLine(e.Message)}");
        }
        if (node is not JsonObject root)
            throw new NotebookFormatException($"{sourceName}: a notebook must be a JSON object with 'cells', 'metadata' and 'nbformat'");

        var major = root["nbformat"] is JsonValue v && v.TryGetValue<int>(out var m) ? m : (int?)null;
        if (major is null)
            throw new NotebookFormatException($"{sourceName}: 'nbformat' is missing; is this a Jupyter notebook?");
        if (major != 4)
            throw new NotebookFormatException(
                $"{sourceName}: nbformat {major} is not supported; only nbformat 4 is (convert with `jupyter nbconvert --to notebook --nbformat 4`)");
        if (root["cells"] is not JsonArray cellsJson)
            throw new NotebookFormatException($"{sourceName}: 'cells' must be a list");
        if (root["metadata"] is null)
            root["metadata"] = new JsonObject();
        else if (root["metadata"] is not JsonObject)
            throw new NotebookFormatException($"{sourceName}: 'metadata' must be an object");

        var cells = new List<Cell>(cellsJson.Count);
        for (var i = 0; i < cellsJson.Count; i++)
        {
            if (cellsJson[i] is not JsonObject c)
                throw new NotebookFormatException($"{sourceName}: cell {i + 1} is not an object");
            cells.Add(new Cell(c, i, sourceName));
        }
        return new Notebook(root, cells, sourceName);
    }

    public JsonObject Metadata => (JsonObject)Root["metadata"]!;

    public int MinorVersion => Root["nbformat_minor"] is JsonValue v && v.TryGetValue<int>(out var m) ? m : 0;

    /// The kernel a cell without its own kernel name runs in (Polyglot's defaultKernelName).
    public string NotebookKernelName =>
        (Metadata["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"] as JsonValue)?.GetValue<string>()
        ?? (Metadata["kernelspec"]?["language"] as JsonValue)?.GetValue<string>() switch
        {
            "C#" or "csharp" => "csharp",
            "F#" or "fsharp" => "fsharp",
            "PowerShell" or "pwsh" => "pwsh",
            { } other => other,
            null => DefaultKernelName,
        };

    /// The cells' JSON in notebook order (after cells were inserted or removed).
    public void SyncCells()
    {
        var arr = new JsonArray();
        foreach (var c in Cells)
        {
            c.Json.Parent?.AsArray().Remove(c.Json);
            arr.Add(c.Json);
        }
        Root["cells"] = arr;
        for (var i = 0; i < Cells.Count; i++) Cells[i].Index = i;
    }

    public Notebook Clone() => Parse(Serialize(), SourceName);

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 1,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// Jupyter's layout: one-space indent, a trailing newline.
    public string Serialize()
    {
        SyncCells();
        return Root.ToJsonString(WriteOptions) + "\n";
    }

    /// Writes to a temporary file beside the target and moves it into place, so a reader never sees half a notebook.
    public void Save(string path) => AtomicFile.WriteAllText(path, Serialize());

    public Cell InsertCodeCell(int index, string source, params string[] tags)
    {
        var json = new JsonObject
        {
            ["cell_type"] = "code",
            ["execution_count"] = null,
            ["metadata"] = new JsonObject
            {
                ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
                ["tags"] = new JsonArray(tags.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            },
            ["outputs"] = new JsonArray(),
            ["source"] = Cell.ToSourceLines(source),
        };
        if (MinorVersion >= 5) json["id"] = Guid.NewGuid().ToString("N")[..8];
        var cell = new Cell(json, index, SourceName);
        Cells.Insert(index, cell);
        SyncCells();
        return cell;
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}

public enum CellType { Code, Markdown, Raw }

public sealed class Cell
{
    internal Cell(JsonObject json, int index, string sourceName)
    {
        Json = json;
        Index = index;
        var type = (json["cell_type"] as JsonValue)?.GetValue<string>();
        Type = type switch
        {
            "code" => CellType.Code,
            "markdown" => CellType.Markdown,
            "raw" => CellType.Raw,
            null => throw new NotebookFormatException($"{sourceName}: cell {index + 1} has no 'cell_type'"),
            _ => throw new NotebookFormatException($"{sourceName}: cell {index + 1} has unknown cell_type '{type}'"),
        };
        if (json["source"] is not (JsonArray or JsonValue))
            throw new NotebookFormatException($"{sourceName}: cell {index + 1} has no 'source'");
        if (json["metadata"] is null) json["metadata"] = new JsonObject();
        if (Type == CellType.Code && json["outputs"] is null) json["outputs"] = new JsonArray();
    }

    public JsonObject Json { get; }
    public int Index { get; internal set; }
    public CellType Type { get; }

    /// 1-based number as users count cells in an editor.
    public int Number => Index + 1;

    public JsonObject Metadata => (JsonObject)Json["metadata"]!;

    public string Source
    {
        get => Json["source"] switch
        {
            JsonArray a => string.Concat(a.Select(x => x?.GetValue<string>() ?? "")),
            JsonValue v => v.GetValue<string>(),
            _ => "",
        };
        set => Json["source"] = ToSourceLines(value);
    }

    public IReadOnlyList<string> Tags =>
        Metadata["tags"] is JsonArray a ? a.Select(t => t?.GetValue<string>() ?? "").ToList() : [];

    public bool HasTag(string tag) => Tags.Contains(tag);

    /// The cell's own kernel: Polyglot's `metadata.polyglot_notebook.kernelName`, or the older
    /// `metadata.dotnet_interactive.language`; null when the cell names none.
    public string? KernelName =>
        (Metadata["polyglot_notebook"]?["kernelName"] as JsonValue)?.GetValue<string>()
        ?? (Metadata["dotnet_interactive"]?["language"] as JsonValue)?.GetValue<string>();

    public JsonArray Outputs
    {
        get
        {
            if (Json["outputs"] is JsonArray a) return a;
            var n = new JsonArray();
            Json["outputs"] = n;
            return n;
        }
    }

    public int? ExecutionCount
    {
        get => Json["execution_count"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : null;
        set => Json["execution_count"] = value;
    }

    public void ClearOutputs()
    {
        if (Type != CellType.Code) return;
        Json["outputs"] = new JsonArray();
        Json["execution_count"] = null;
    }

    /// nbformat's multiline string: a list of lines, each but the last ending in "\n".
    public static JsonArray ToSourceLines(string text)
    {
        var arr = new JsonArray();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\n') continue;
            arr.Add(text[start..(i + 1)]);
            start = i + 1;
        }
        if (start < text.Length) arr.Add(text[start..]);
        return arr;
    }
}

public static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(tmp, text, new UTF8Encoding(false));
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
