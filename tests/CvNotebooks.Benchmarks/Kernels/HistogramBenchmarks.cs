using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using TorchSharp;
using Hist = CvNotebooks.Histograms.Histograms;

namespace CvNotebooks.Benchmarks.Kernels;

/// Histogram equalisation of the gray image. cv::equalizeHist takes 8-bit images only, so the baseline is 8-bit;
/// the library reads float32 levels (the same 256 levels, four times the bytes).
public class HistogramBenchmarks : ImageBenchmarkBase
{
    private Mat[] _equalized = [];

    protected override void Prepare() => _equalized = Outputs();

    [Benchmark(Baseline = true), BenchmarkCategory("EqualizeHist")]
    public void EqualizeHist_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.EqualizeHist(GrayU8[i], _equalized[i]); }

    [Benchmark, BenchmarkCategory("EqualizeHist")]
    public void EqualizeHist_Library() { using var scope = torch.NewDisposeScope(); Hist.EqualizeHist(Gray); }
}
