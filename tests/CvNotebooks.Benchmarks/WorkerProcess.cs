using System.Diagnostics;
using System.Text.Json.Nodes;

namespace CvNotebooks.Benchmarks;

/// A client of the worker line protocol (lib/CvNotebooks.Runner/Kernel/Protocol.cs), for `cvnb worker` and for
/// `cvnb-floor serve` alike, so both sides of a comparison pay the same pipe and JSON costs in this process.
/// Runner to worker: {"op":"run","cell":N,"kernel":"csharp","code":"..."}, {"op":"quit"};
/// worker to runner: {"ev":"ready"}, {"ev":"output",...}, {"ev":"update",...}, {"ev":"done","cell":N,"ok":bool}.
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _stderr = new();
    private int _cell;

    private WorkerProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr)
            {
                _stderr.Enqueue(e.Data);
                while (_stderr.Count > 30) _stderr.Dequeue();
            }
        };
        _process.BeginErrorReadLine();
    }

    /// CPU time the worker has used so far (user + system, all its threads).
    public TimeSpan ProcessorTime => _process.TotalProcessorTime;

    public static WorkerProcess Start(ProcessStartInfo info) =>
        new(Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}"));

    /// The next protocol message; throws when the process ended.
    public JsonObject Next()
    {
        while (true)
        {
            var line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"the worker ended:\n{StderrTail}");
            if (JsonNode.Parse(line) is JsonObject message) return message;
        }
    }

    public void WaitReady()
    {
        var m = Next();
        if (Event(m) != "ready") throw new InvalidOperationException($"expected ready, got {m.ToJsonString()}");
    }

    public void Send(string code)
    {
        var message = new JsonObject { ["op"] = "run", ["cell"] = ++_cell, ["kernel"] = "csharp", ["code"] = code };
        _process.StandardInput.Write(message.ToJsonString() + "\n");
        _process.StandardInput.Flush();
    }

    /// Send a cell and read to its first output (returned) without waiting for `done`.
    public JsonObject RunToFirstOutput(string code)
    {
        Send(code);
        while (true)
        {
            var m = Next();
            switch (Event(m))
            {
                case "output": return m;
                case "done": throw new InvalidOperationException($"cell {_cell} produced no output:\n{StderrTail}");
            }
        }
    }

    /// Read to the `done` of the last cell sent; the outputs on the way are returned.
    public List<JsonObject> ReadToDone()
    {
        var outputs = new List<JsonObject>();
        while (true)
        {
            var m = Next();
            switch (Event(m))
            {
                case "output": outputs.Add(m); break;
                case "done":
                    if (m["ok"]?.GetValue<bool>() != true)
                        throw new InvalidOperationException($"cell {_cell} failed: {string.Join("\n", outputs.Select(o => o.ToJsonString()))}\n{StderrTail}");
                    return outputs;
            }
        }
    }

    public List<JsonObject> Run(string code)
    {
        Send(code);
        return ReadToDone();
    }

    private static string? Event(JsonObject m) => m["ev"]?.GetValue<string>();

    private string StderrTail
    {
        get { lock (_stderr) return string.Join("\n", _stderr); }
    }

    /// As WorkerClient.DisposeAsync: ask it to quit, wait a little, kill if it does not.
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Write("{\"op\":\"quit\"}\n");
                _process.StandardInput.Close();
                if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }
}
