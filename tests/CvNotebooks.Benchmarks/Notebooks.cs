using System.Text.Json.Nodes;

namespace CvNotebooks.Benchmarks;

/// The notebooks the benchmarks execute, written as Polyglot Notebooks writes them (kernelspec .net-csharp,
/// metadata.polyglot_notebook), into a fresh temporary folder.
internal static class Notebooks
{
    public const string HiCell = "Console.WriteLine(\"hi\");";

    /// Cell i (1..50): v_i = (v_{i-1} * 31 + i) % 1000 with v_0 = 7, then one Console.WriteLine of a string built
    /// from it. Each cell has its own variable, so every cell reads state that an earlier submission made.
    public static IReadOnlyList<string> FiftyCells { get; } = Enumerable.Range(1, 50).Select(i =>
        $"var v{i} = ({(i == 1 ? "7" : $"v{i - 1}")} * 31 + {i}) % 1000;\n" +
        $"var s{i} = $\"step {i}: {{v{i}}} \" + \"abcdefghij\"[..({i} % 10 + 1)];\n" +
        $"Console.WriteLine(s{i});").ToList();

    public static string NewFolder(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "cvnb-bench", $"{name}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static string Write(string directory, string fileName, IEnumerable<string> cells)
    {
        var notebook = new JsonObject
        {
            ["cells"] = new JsonArray(cells.Select(code => (JsonNode)new JsonObject
            {
                ["cell_type"] = "code",
                ["execution_count"] = null,
                ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } },
                ["outputs"] = new JsonArray(),
                ["source"] = new JsonArray(SourceLines(code).Select(l => (JsonNode)l!).ToArray()),
            }).ToArray()),
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
                ["polyglot_notebook"] = new JsonObject
                {
                    ["kernelInfo"] = new JsonObject
                    {
                        ["defaultKernelName"] = "csharp",
                        ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
                    },
                },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        var path = Path.Combine(directory, fileName);
        File.WriteAllText(path, notebook.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// The stdout text of every cell of an executed notebook, in order.
    public static List<string> StdoutOf(string executedPath)
    {
        var nb = JsonNode.Parse(File.ReadAllText(executedPath))!;
        return nb["cells"]!.AsArray().Select(c => string.Concat(c!["outputs"]!.AsArray()
            .Where(o => o!["output_type"]?.GetValue<string>() == "stream" && o["name"]?.GetValue<string>() == "stdout")
            .SelectMany(o => o!["text"] is JsonArray a ? a.Select(t => t!.GetValue<string>()) : [o["text"]!.GetValue<string>()]))).ToList();
    }

    private static IEnumerable<string> SourceLines(string code)
    {
        var lines = code.Split('\n');
        for (var i = 0; i < lines.Length; i++) yield return i < lines.Length - 1 ? lines[i] + "\n" : lines[i];
    }

    public static void TryDelete(string? directory)
    {
        if (directory is null) return;
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
