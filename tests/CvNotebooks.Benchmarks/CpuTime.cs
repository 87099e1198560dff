using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace CvNotebooks.Benchmarks;

/// CPU time (user + system) of the child process tree of one benchmark invocation: getrusage(RUSAGE_CHILDREN)
/// counts every descendant once it has been waited for (cvnb waits for its worker, this process for cvnb).
/// On a shared machine wall time also counts waiting for a core; CPU time mostly does not, so the two together
/// tell the runner's own cost from the neighbours' load. Recorded for every invocation (jitting, warm-up and
/// measured alike: the median is little moved by the one cold jitting run) and shown by CpuColumn.
internal static class CpuTime
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<double>> Samples = new();

    public static double ChildrenMilliseconds()
    {
        if (getrusage(-1 /* RUSAGE_CHILDREN */, out var u) != 0) return double.NaN;
        return (u.UserSeconds + u.SystemSeconds) * 1e3 + (u.UserMicroseconds + u.SystemMicroseconds) / 1e3;
    }

    public static void Record(string type, string method, string? parameter, double milliseconds) =>
        Samples.GetOrAdd(Key(type, method, parameter), _ => new()).Enqueue(milliseconds);

    public static double? Median(string key) =>
        Samples.TryGetValue(key, out var q) && !q.IsEmpty ? Stats.Median(q) : null;

    public static string Key(string type, string method, string? parameter) => $"{type}.{method}/{parameter}";

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxRss, Ixrss, Idrss, Isrss, Minflt, Majflt, Nswap, Inblock, Oublock, Msgsnd, Msgrcv, Nsignals, Nvcsw, Nivcsw;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);
}

/// Median CPU time of the child processes per invocation (CpuTime), beside BenchmarkDotNet's wall times.
/// Needs the in-process toolchain (the samples live in this process); elsewhere it shows "-".
public sealed class CpuColumn : IColumn
{
    public string Id => nameof(CpuColumn);
    public string ColumnName => "CPU (median)";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 10;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Median CPU time (user+sys) of the child process tree per invocation, in ms (getrusage RUSAGE_CHILDREN; the worker's own until its first output)";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var parameter = benchmarkCase.Parameters.Items.Select(p => p.Value?.ToString()).FirstOrDefault();
        var key = CpuTime.Key(benchmarkCase.Descriptor.Type.Name, benchmarkCase.Descriptor.WorkloadMethod.Name, parameter);
        return CpuTime.Median(key) is { } ms ? ms.ToString("0") + " ms" : "-";
    }
}
