using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace CvNotebooks.Benchmarks;

/// 2. Overhead per small cell, later in a notebook: one long-lived worker (started in GlobalSetup, `var x = 0;`
/// run once, then 20 warm-up cells), each measurement = one `x = x + 1;` cell sent and its `done` received.
/// Floor (baseline) = cvnb-floor serve: a plain process that speaks the same line protocol over the same pipes,
/// parses the same JSON and runs `x = x + 1;` as compiled code. So the pipe round trip and the JSON are paid on
/// both sides and the difference is what the kernel adds: Roslyn compile of the submission, emit, load, run, and
/// the .NET Interactive command pipeline. The in-process delegate shows what the statement itself costs.
[Config(typeof(CellConfig))]
public class SmallCell
{
    private const string Cell = "x = x + 1;";
    private static readonly Func<int, int> Compiled = x => x + 1;

    private string _directory = "";
    private Neighbours? _neighbours;
    private WorkerProcess? _worker;
    private WorkerProcess? _floor;
    private int _x;

    [GlobalSetup(Target = nameof(Floor_ProcessRoundTrip))]
    public void StartFloor()
    {
        _neighbours = new Neighbours();
        _floor = WorkerProcess.Start(Programs.Floor("serve"));
        _floor.WaitReady();
    }

    [GlobalSetup(Target = nameof(Worker_SmallCell))]
    public void StartWorker()
    {
        _neighbours = new Neighbours();
        _directory = Notebooks.NewFolder("smallcell");
        _worker = WorkerProcess.Start(Programs.Worker(_directory));
        _worker.WaitReady();
        var clock = Stopwatch.StartNew();
        _worker.Run("var x = 0;");
        var times = new List<double> { clock.Elapsed.TotalMilliseconds };
        for (var i = 0; i < 5; i++)
        {
            clock.Restart();
            _worker.Run(Cell);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"// first cells in a fresh worker, ms: `var x = 0;` {times[0]:0}, then `{Cell}` {string.Join(", ", times.Skip(1).Select(t => t.ToString("0")))}");
    }

    [Benchmark(Baseline = true)]
    public void Floor_ProcessRoundTrip()
    {
        _floor!.Send(Cell);
        _floor.ReadToDone();
    }

    [Benchmark]
    public void Worker_SmallCell()
    {
        _worker!.Send(Cell);
        _worker.ReadToDone();
    }

    [Benchmark]
    public int CompiledDelegate_InProcess() => _x = Compiled(_x);

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_worker is not null)
        {
            // The state chained through every submission: x counts the cells that ran.
            var shown = _worker.Run("Console.Write(x);");
            Console.WriteLine($"// worker: x = {string.Join("", shown.Select(o => o["output"]?["text"]?.ToJsonString()))} after all cells");
        }
        _worker?.Dispose();
        _floor?.Dispose();
        _worker = _floor = null;
        if (_neighbours is not null) Console.WriteLine($"// neighbours (the worker counted as ours once it has exited): {_neighbours.Report()}");
        Notebooks.TryDelete(_directory);
    }
}
