using System.Text.Json.Nodes;

namespace CvNotebooks.Runner.Kernel;

/// Builds nbformat 4 output objects the way Polyglot Notebooks stores them.
public static class Outputs
{
    public static JsonObject Stream(string name, string text) => new()
    {
        ["name"] = name,
        ["output_type"] = "stream",
        ["text"] = Documents.Cell.ToSourceLines(text),
    };

    public static JsonObject Display(IEnumerable<(string MimeType, string Value)> values, int? executionCount = null)
    {
        var data = new JsonObject();
        foreach (var (mime, value) in values)
            data[mime] = mime == "application/json" && TryParse(value) is { } json ? json : Documents.Cell.ToSourceLines(value);
        var output = new JsonObject { ["data"] = data, ["metadata"] = new JsonObject() };
        if (executionCount is { } n)
        {
            output["execution_count"] = n;
            output["output_type"] = "execute_result";
        }
        else
        {
            output["output_type"] = "display_data";
        }
        return output;
    }

    public static JsonObject Error(string name, string message, IEnumerable<string>? traceback = null) => new()
    {
        ["ename"] = name,
        ["evalue"] = message,
        ["output_type"] = "error",
        ["traceback"] = new JsonArray((traceback ?? [message]).Select(l => (JsonNode?)JsonValue.Create(l)).ToArray()),
    };

    public static string Text(JsonNode? value) => value switch
    {
        JsonArray a => string.Concat(a.Select(x => x?.GetValue<string>() ?? "")),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        null => "",
        _ => value.ToJsonString(),
    };

    private static JsonNode? TryParse(string s)
    {
        try { return JsonNode.Parse(s); }
        catch (System.Text.Json.JsonException) { return null; }
    }
}
