using System.Text.Json.Nodes;
using Xunit;

namespace CvNotebooks.Runner.Tests.Infrastructure;

/// A notebook file read as plain JSON, independent of the runner's own document model: what a user (or Jupyter)
/// finds in the file. Cells are numbered from 1 over all cells, as the runner's messages count them.
public sealed class Ipynb
{
    public string Path { get; }
    public JsonObject Root { get; }

    private Ipynb(string path, JsonObject root)
    {
        Path = path;
        Root = root;
    }

    public static Ipynb Load(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        var node = JsonNode.Parse(File.ReadAllText(path));
        return new Ipynb(path, Assert.IsType<JsonObject>(node));
    }

    public JsonObject Metadata => Root["metadata"]!.AsObject();

    public IReadOnlyList<JsonObject> Cells => Root["cells"]!.AsArray().Select(c => c!.AsObject()).ToList();

    public JsonObject Cell(int number) => Cells[number - 1];

    public static string Source(JsonObject cell) => Text(cell["source"]);

    public static IReadOnlyList<string> Tags(JsonObject cell) =>
        cell["metadata"]?["tags"] is JsonArray a ? a.Select(t => t!.GetValue<string>()).ToList() : [];

    public static int? Count(JsonObject cell) => cell["execution_count"] is JsonValue v ? v.GetValue<int>() : null;

    public IReadOnlyList<JsonObject> Outputs(int cell) => Cell(cell)["outputs"]!.AsArray().Select(o => o!.AsObject()).ToList();

    public IReadOnlyList<string> OutputTypes(int cell) => Outputs(cell).Select(o => o["output_type"]!.GetValue<string>()).ToList();

    public int? ExecutionCount(int cell) => Count(Cell(cell));

    /// All text of the cell's stream outputs of one name ("stdout" or "stderr").
    public string Stream(int cell, string name = "stdout") =>
        string.Concat(Outputs(cell).Where(o => o["output_type"]!.GetValue<string>() == "stream" && o["name"]!.GetValue<string>() == name)
            .Select(o => Text(o["text"])));

    /// The cell's only error output.
    public JsonObject Error(int cell) => Assert.Single(Outputs(cell), o => o["output_type"]!.GetValue<string>() == "error");

    public static string Ename(JsonObject error) => error["ename"]!.GetValue<string>();
    public static string Evalue(JsonObject error) => error["evalue"]!.GetValue<string>();
    public static IReadOnlyList<string> Traceback(JsonObject error) => error["traceback"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();

    /// A mime bundle entry of a display_data or execute_result output, joined into one string.
    public static string? Data(JsonObject output, string mime) => output["data"]?[mime] is { } v ? Text(v) : null;

    /// nbformat's multiline string: a string or a list of strings.
    public static string Text(JsonNode? node) => node switch
    {
        JsonArray a => string.Concat(a.Select(x => x!.GetValue<string>())),
        JsonValue v => v.GetValue<string>(),
        _ => "",
    };

    public int CellNumberWithTag(string tag) => Cells.Select((c, i) => (c, i)).Single(x => Tags(x.c).Contains(tag)).i + 1;
}
