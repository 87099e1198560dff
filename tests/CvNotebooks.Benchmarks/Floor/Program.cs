// The floor: what the benchmarked notebook code costs when it is compiled ahead into a plain console program.
//   cvnb-floor hi      print "hi" (cold start to first output)
//   cvnb-floor serve   the worker's line protocol without a compiler: {"ev":"ready"}, then for each
//                      {"op":"run",...} line run the compiled `x = x + 1;` and answer {"ev":"done",...}
//   cvnb-floor fifty   the 50 steps of the generated 50-cell notebook (Notebooks.FiftyCells), in one program
using System.Text.Json.Nodes;

var mode = args.Length > 0 ? args[0] : "hi";
switch (mode)
{
    case "hi":
        Console.WriteLine("hi");
        return 0;

    case "serve":
        var x = 0;
        var stdin = Console.In;
        var stdout = Console.Out;
        stdout.Write("{\"ev\":\"ready\"}\n");
        stdout.Flush();
        while (stdin.ReadLine() is { } line)
        {
            var message = JsonNode.Parse(line) as JsonObject;
            var op = message?["op"]?.GetValue<string>();
            if (op == "quit") break;
            if (op != "run") continue;
            var cell = message!["cell"]!.GetValue<int>();
            var code = message["code"]!.GetValue<string>();
            var ok = code == "x = x + 1;";
            if (ok) x = x + 1;
            stdout.Write(new JsonObject { ["ev"] = "done", ["cell"] = cell, ["ok"] = ok }.ToJsonString() + "\n");
            stdout.Flush();
        }
        return x > 0 ? 0 : 1;

    case "fifty":
        // The same computation as the notebook's 50 cells (cell i: v_i = (v_{i-1} * 31 + i) % 1000, v_0 = 7,
        // and one Console.WriteLine); the benchmark checks that both print the same 50 lines.
        var v = 7;
        for (var i = 1; i <= 50; i++)
        {
            v = (v * 31 + i) % 1000;
            var s = $"step {i}: {v} " + "abcdefghij"[..(i % 10 + 1)];
            Console.WriteLine(s);
        }
        return 0;

    default:
        Console.Error.WriteLine($"cvnb-floor: unknown mode '{mode}' (hi, serve, fifty)");
        return 2;
}
