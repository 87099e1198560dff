using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace CvNotebooks.Benchmarks;

/// Jobs for benchmarks whose unit of work is a child process or a round trip to one.
/// In-process toolchain: the measured work happens in the children (cvnb, its worker, cvnb-floor), so the host
/// needs no isolation of its own, and it finds both programs beside itself (AppContext.BaseDirectory) instead of
/// in a generated project's output; it also saves the generated project's build (~30 s) on every run.
/// One invocation per iteration: each measurement is one process start (or one cell), and the Median column is
/// the median of those.
public abstract class RunnerConfigBase : ManualConfig
{
    protected RunnerConfigBase(string id, int warmup, int iterations, bool withCpu)
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId(id)
            .WithLaunchCount(1)
            .WithWarmupCount(warmup)
            .WithIterationCount(iterations)
            .WithInvocationCount(1)
            .WithUnrollFactor(1)
            .WithEvaluateOverhead(false));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        AddColumn(new FloorColumn(FloorColumn.Kind.RatioOfMedians), new FloorColumn(FloorColumn.Kind.MeanMinusFloor), new FloorColumn(FloorColumn.Kind.MedianMinusFloor));
        if (withCpu) AddColumn(new CpuColumn());
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        SummaryStyle = SummaryStyle.Default.WithTimeUnit(Perfolizer.Horology.TimeUnit.Millisecond).WithMaxParameterColumnWidth(40);
    }
}

/// Whole processes (a few seconds each): 1 warm-up, 8 measured.
public sealed class ProcessConfig() : RunnerConfigBase("process", warmup: 1, iterations: 8, withCpu: true);

/// Cells in a long-lived worker (milliseconds each): 20 warm-up cells, 100 measured.
public sealed class CellConfig() : RunnerConfigBase("cell", warmup: 20, iterations: 100, withCpu: false);

/// The comparison with the floor (the baseline of the same category) in both forms: how many times, and how many ms.
public sealed class FloorColumn(FloorColumn.Kind kind) : IColumn
{
    public enum Kind { RatioOfMedians, MeanMinusFloor, MedianMinusFloor }

    public string Id => $"{nameof(FloorColumn)}.{kind}";
    public string ColumnName => kind switch
    {
        Kind.RatioOfMedians => "Ratio (medians)",
        Kind.MeanMinusFloor => "Mean - floor",
        _ => "Median - floor",
    };
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => (int)kind;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => kind switch
    {
        Kind.RatioOfMedians => "Median of this benchmark / median of the floor (the baseline of its category)",
        Kind.MeanMinusFloor => "Mean of this benchmark minus mean of the floor, in ms",
        _ => "Median of this benchmark minus median of the floor, in ms",
    };

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var baseline = summary.GetBaseline(summary.GetLogicalGroupKey(benchmarkCase));
        var s = summary[benchmarkCase]?.ResultStatistics;
        var b = baseline is null ? null : summary[baseline]?.ResultStatistics;
        if (s is null || b is null) return "?";
        return kind switch
        {
            Kind.RatioOfMedians => (s.Median / b.Median).ToString("0.00"),
            Kind.MeanMinusFloor => ((s.Mean - b.Mean) / 1e6).ToString("0.0") + " ms",
            _ => ((s.Median - b.Median) / 1e6).ToString("0.0") + " ms",
        };
    }
}
