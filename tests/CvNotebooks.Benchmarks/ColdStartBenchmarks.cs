using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace CvNotebooks.Benchmarks;

/// 1. Cold start to the first output of a one-cell notebook (`Console.WriteLine("hi");`).
/// Category "first output": from Process.Start until the first output is in this process's hands:
///   floor  = cvnb-floor (precompiled, same runtime settings) until its stdout line "hi" arrives;
///   worker = `cvnb worker` (started as WorkerClient starts it) until its first `output` message, i.e. process
///            start + .NET Interactive kernel creation (`ready`) + first Roslyn compile and run of the cell.
/// Category "to exit": the whole command, from Process.Start until the process has exited:
///   floor  = cvnb-floor hi;  cvnb = `cvnb execute one.ipynb --output DIR` (runner start, notebook load, worker
///            start, cell, executed notebook written, worker quit).
/// Caches are warm: "cold" means a new process (new runtime, nothing JIT-compiled), not an empty disk cache.
[Config(typeof(ProcessConfig))]
public class ColdStart
{
    private const string FirstOutput = "first output";
    private const string ToExit = "to exit";

    private string _directory = "";
    private Neighbours? _neighbours;
    private string _notebook = "";
    private Process? _floor;
    private double _floorCpu;
    private WorkerProcess? _worker;
    private readonly List<(double Ready, double FirstOutput)> _phases = [];

    [GlobalSetup]
    public void Setup()
    {
        _neighbours = new Neighbours();
        _directory = Notebooks.NewFolder("coldstart");
        _notebook = Notebooks.Write(_directory, "one.ipynb", [Notebooks.HiCell]);
    }

    [Benchmark(Baseline = true), BenchmarkCategory(FirstOutput)]
    public string Floor_FirstLine()
    {
        _floorCpu = CpuTime.ChildrenMilliseconds();
        _floor = Process.Start(Programs.Floor("hi"))!;
        var line = _floor.StandardOutput.ReadLine();
        return line == "hi" ? line : throw new InvalidOperationException($"cvnb-floor printed '{line}'");
    }

    [Benchmark, BenchmarkCategory(FirstOutput)]
    public string Worker_FirstOutput()
    {
        var clock = Stopwatch.StartNew();
        _worker = WorkerProcess.Start(Programs.Worker(_directory));
        _worker.WaitReady();
        var ready = clock.Elapsed.TotalMilliseconds;
        var output = _worker.RunToFirstOutput(Notebooks.HiCell);
        _phases.Add((ready, clock.Elapsed.TotalMilliseconds));
        CpuTime.Record(nameof(ColdStart), nameof(Worker_FirstOutput), null, _worker.ProcessorTime.TotalMilliseconds);
        var text = output["output"]?["text"]?.ToJsonString() ?? "";
        return text.Contains("hi") ? text : throw new InvalidOperationException($"unexpected first output {output.ToJsonString()}");
    }

    [Benchmark(Baseline = true), BenchmarkCategory(ToExit)]
    public string Floor_ToExit() => Programs.RunToExit(Programs.Floor("hi"), nameof(ColdStart), nameof(Floor_ToExit));

    [Benchmark, BenchmarkCategory(ToExit)]
    public string CvnbExecute_OneCell_ToExit() =>
        Programs.RunToExit(Programs.Cvnb("execute", _notebook, "--output", Path.Combine(_directory, "out")), nameof(ColdStart), nameof(CvnbExecute_OneCell_ToExit));

    [IterationCleanup]
    public void EndProcesses()
    {
        if (_floor is not null)
        {
            _floor.WaitForExit();
            _floor.Dispose();
            CpuTime.Record(nameof(ColdStart), nameof(Floor_FirstLine), null, CpuTime.ChildrenMilliseconds() - _floorCpu);
            _floor = null;
        }
        _worker?.Dispose();
        _worker = null;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_neighbours is not null) Console.WriteLine($"// neighbours: {_neighbours.Report()}");
        if (_phases.Count > 0)
            Console.WriteLine($"// worker phases over {_phases.Count} starts (median): start to ready (kernel created, warm-up submission if the worker makes one) {Stats.Median(_phases.Select(p => p.Ready)):0} ms, "
                + $"ready to first output (the cell compiled and run) {Stats.Median(_phases.Select(p => p.FirstOutput - p.Ready)):0} ms, "
                + $"total {Stats.Median(_phases.Select(p => p.FirstOutput)):0} ms");
        Notebooks.TryDelete(_directory);
    }
}

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
