using System.Text.Json;
using System.Text.Json.Nodes;

namespace CvNotebooks.Runner.Kernel;

/// Messages between the runner and its worker, one JSON object per line.
/// Runner to worker: {"op":"run","cell":N,"kernel":"csharp","code":"..."} and {"op":"quit"}.
/// Worker to runner: {"ev":"ready"}, {"ev":"output","cell":N,"output":{nbformat output},"displayId":"..."},
/// {"ev":"update","cell":N,"displayId":"...","output":{...}}, {"ev":"done","cell":N,"ok":bool}.
internal static class Protocol
{
    public static string Line(JsonObject message) => message.ToJsonString(Options);

    public static JsonObject? Parse(string line)
    {
        try { return JsonNode.Parse(line) as JsonObject; }
        catch (JsonException) { return null; }
    }

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
}
