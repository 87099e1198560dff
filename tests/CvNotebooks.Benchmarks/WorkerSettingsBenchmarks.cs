using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace CvNotebooks.Benchmarks;

/// Experiments on the cold start (benchmark 1, category "first output") with runtime settings given to the
/// worker through environment variables, without touching the runner's code. Each setting has its own floor row
/// (cvnb-floor hi, unaffected) so the ratio columns read as in ColdStart.
/// A setting is a `;`-separated list of NAME=VALUE for the worker's environment, and `r2r`: start the worker from
/// CVNB_BENCH_R2R_DIR, a ReadyToRun publish of the runner (RESULTS.md says how to make one); those settings are
/// listed only when that variable is set.
[Config(typeof(ProcessConfig))]
public class WorkerSettings
{
    public const string R2R = "r2r";

    public static IEnumerable<string> Settings()
    {
        yield return "default";
        yield return "DOTNET_TieredPGO=0";
        yield return "DOTNET_TC_QuickJitForLoops=0";
        yield return "DOTNET_TieredCompilation=0";
        yield return "DOTNET_TC_CallCounting=0";
        if (R2RDirectory is null) yield break;
        yield return R2R;
        yield return $"{R2R};DOTNET_TieredPGO=0";
    }

    private static string? R2RDirectory =>
        Environment.GetEnvironmentVariable("CVNB_BENCH_R2R_DIR") is { Length: > 0 } dir ? Path.GetFullPath(dir) : null;

    [ParamsSource(nameof(Settings))]
    public string Setting { get; set; } = "default";

    private string _directory = "";
    private Neighbours? _neighbours;
    private Process? _floor;
    private double _floorCpu;
    private WorkerProcess? _worker;
    private readonly List<(double Ready, double FirstOutput)> _phases = [];

    [GlobalSetup]
    public void Setup()
    {
        _neighbours = new Neighbours();
        _directory = Notebooks.NewFolder("settings");
    }

    [Benchmark(Baseline = true)]
    public string Floor_FirstLine()
    {
        _floorCpu = CpuTime.ChildrenMilliseconds();
        _floor = Process.Start(Programs.Floor("hi"))!;
        return _floor.StandardOutput.ReadLine() ?? "";
    }

    [Benchmark]
    public string Worker_FirstOutput()
    {
        var items = Setting.Split(';');
        var info = Programs.Worker(_directory, items.Where(i => i.Contains('=')).ToDictionary(i => i[..i.IndexOf('=')], i => i[(i.IndexOf('=') + 1)..]));
        if (items.Contains(R2R))
        {
            info.FileName = Path.Combine(R2RDirectory!, "cvnb");
            info.ArgumentList.Clear();
            info.ArgumentList.Add("worker");
        }
        var clock = Stopwatch.StartNew();
        _worker = WorkerProcess.Start(info);
        _worker.WaitReady();
        var ready = clock.Elapsed.TotalMilliseconds;
        var output = _worker.RunToFirstOutput(Notebooks.HiCell);
        _phases.Add((ready, clock.Elapsed.TotalMilliseconds));
        CpuTime.Record(nameof(WorkerSettings), nameof(Worker_FirstOutput), Setting, _worker.ProcessorTime.TotalMilliseconds);
        return output.ToJsonString();
    }

    [IterationCleanup]
    public void EndProcesses()
    {
        if (_floor is not null)
        {
            _floor.WaitForExit();
            _floor.Dispose();
            _floor = null;
            CpuTime.Record(nameof(WorkerSettings), nameof(Floor_FirstLine), Setting, CpuTime.ChildrenMilliseconds() - _floorCpu);
        }
        _worker?.Dispose();
        _worker = null;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_neighbours is not null) Console.WriteLine($"// neighbours: {_neighbours.Report()}");
        if (_phases.Count > 0)
            Console.WriteLine($"// {Setting}: worker start to ready {Stats.Median(_phases.Select(p => p.Ready)):0} ms, ready to first output "
                + $"{Stats.Median(_phases.Select(p => p.FirstOutput - p.Ready)):0} ms (medians of {_phases.Count})");
        _phases.Clear();
        Notebooks.TryDelete(_directory);
    }
}
