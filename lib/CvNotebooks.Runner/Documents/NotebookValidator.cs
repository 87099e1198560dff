using System.Text.Json.Nodes;

namespace CvNotebooks.Runner.Documents;

/// Checks a notebook against nbformat 4 and what Polyglot Notebooks expects, naming the cell of every problem.
public static class NotebookValidator
{
    private static readonly HashSet<string> OutputTypes = ["stream", "display_data", "execute_result", "error"];

    public static List<string> Validate(string path)
    {
        Notebook notebook;
        try { notebook = Notebook.Load(path); }
        catch (NotebookFormatException e) { return [e.Message]; }
        return Validate(notebook);
    }

    public static List<string> Validate(Notebook notebook)
    {
        var problems = new List<string>();
        var name = notebook.SourceName;
        void Add(string where, string what) => problems.Add($"{name}: {where}{what}");

        if (notebook.Root["nbformat_minor"] is not JsonValue minor || !minor.TryGetValue<int>(out _))
            Add("", "'nbformat_minor' is missing or not a number");
        var meta = notebook.Metadata;
        var kernelspec = meta["kernelspec"] as JsonObject;
        if (kernelspec is null)
            Add("", "metadata.kernelspec is missing (Polyglot Notebooks writes {\"name\": \".net-csharp\", \"language\": \"C#\", \"display_name\": \".NET (C#)\"})");
        else if (kernelspec["name"]?.GetValue<string>() is not { } ks || !ks.StartsWith(".net-", StringComparison.Ordinal))
            Add("", $"metadata.kernelspec.name is '{kernelspec["name"]}', not a .NET Interactive kernel such as '.net-csharp'");

        var kernelInfo = meta["polyglot_notebook"]?["kernelInfo"] as JsonObject;
        // Notebooks written before Polyglot Notebooks name each cell's language in metadata.dotnet_interactive
        // and have no kernelInfo; VS Code still opens them, so they are valid.
        var legacy = notebook.Cells.Any(c => c.Metadata["dotnet_interactive"] is JsonObject);
        if (kernelInfo is null && !legacy)
            Add("", "metadata.polyglot_notebook.kernelInfo is missing: VS Code Polyglot Notebooks needs defaultKernelName and items");
        var known = (kernelInfo?["items"] as JsonArray)?.OfType<JsonObject>()
            .SelectMany(i => new[] { i["name"]?.GetValue<string>() }.Concat((i["aliases"] as JsonArray)?.Select(a => a?.GetValue<string>()) ?? []))
            .OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase) ?? [];

        var ids = new HashSet<string>();
        foreach (var cell in notebook.Cells)
        {
            var where = $"cell {cell.Number}: ";
            if (notebook.MinorVersion >= 5)
            {
                var id = (cell.Json["id"] as JsonValue)?.GetValue<string>();
                if (string.IsNullOrEmpty(id)) Add(where, "has no 'id' (required from nbformat 4.5)");
                else if (!ids.Add(id)) Add(where, $"id '{id}' is used twice");
            }
            if (cell.Type != CellType.Code) continue;
            var kernel = cell.KernelName;
            if (kernel is null && notebook.NotebookKernelName is null)
                Add(where, "names no kernel (metadata.polyglot_notebook.kernelName)");
            else if (kernel is not null && known.Count > 0 && !known.Contains(kernel))
                Add(where, $"uses kernel '{kernel}', which metadata.polyglot_notebook.kernelInfo.items does not declare");
            if (cell.Json["execution_count"] is JsonValue ec && !ec.TryGetValue<int>(out _))
                Add(where, "execution_count must be a number or null");
            if (cell.Json["outputs"] is not JsonArray outputs) { Add(where, "'outputs' must be a list"); continue; }
            for (var i = 0; i < outputs.Count; i++)
                ValidateOutput(outputs[i] as JsonObject, $"{where}output {i + 1} ", Add);
        }
        return problems;
    }

    private static void ValidateOutput(JsonObject? output, string where, Action<string, string> add)
    {
        if (output is null) { add(where, "is not an object"); return; }
        var type = (output["output_type"] as JsonValue)?.GetValue<string>();
        if (type is null || !OutputTypes.Contains(type)) { add(where, $"has unknown output_type '{type}'"); return; }
        switch (type)
        {
            case "stream":
                if (output["name"]?.GetValue<string>() is not ("stdout" or "stderr")) add(where, "stream name must be stdout or stderr");
                if (output["text"] is null) add(where, "stream has no 'text'");
                break;
            case "display_data" or "execute_result":
                if (output["data"] is not JsonObject) add(where, "has no 'data' object");
                if (output["metadata"] is not JsonObject) add(where, "has no 'metadata' object");
                if (type == "execute_result" && output["execution_count"] is null) add(where, "execute_result has no execution_count");
                break;
            case "error":
                if (output["ename"] is null || output["evalue"] is null || output["traceback"] is not JsonArray)
                    add(where, "error needs ename, evalue and a traceback list");
                break;
        }
    }
}
