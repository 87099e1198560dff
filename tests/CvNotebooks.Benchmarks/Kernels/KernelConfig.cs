using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace CvNotebooks.Benchmarks.Kernels;

/// The job for the kernel benchmarks: library kernels (TorchSharp CPU) beside their OpenCV equivalents.
/// In-process: the work is native (libtorch, OpenCV) and a whole run must stay short (~10-15 min on 2 cores), so no
/// generated project and no process per case. Short: 1 launch, 2 warm-up and 8 measured iterations of ~250 ms each.
/// Each kernel is its own category, with the OpenCV call as its baseline, so the Ratio columns read
/// "library time / OpenCV time" for the same size in the same run (DESIGN.md: speed is a ratio against the anchor).
public sealed class KernelConfig : ManualConfig
{
    public KernelConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("kernels")
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(8)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithUnrollFactor(1)
            .WithEvaluateOverhead(false));
        AddColumn(StatisticColumn.Median, new MedianRatioColumn());
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Millisecond).WithMaxParameterColumnWidth(20);
    }
}

/// Median of this benchmark / median of the baseline (the OpenCV call) of its category and size. BenchmarkDotNet's
/// own Ratio column is a ratio of means; on a shared machine the median is the steadier of the two.
public sealed class MedianRatioColumn : IColumn
{
    public string Id => nameof(MedianRatioColumn);
    public string ColumnName => "Ratio (medians)";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Median of this benchmark / median of the OpenCV baseline of the same kernel and size";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var baseline = summary.GetBaseline(summary.GetLogicalGroupKey(benchmarkCase));
        var s = summary[benchmarkCase]?.ResultStatistics;
        var b = baseline is null ? null : summary[baseline]?.ResultStatistics;
        return s is null || b is null ? "?" : (s.Median / b.Median).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
    }
}
