using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using TorchSharp;
using CvNotebooks.Features;

namespace CvNotebooks.Benchmarks.Kernels;

/// Harris corner response (blockSize 2, Sobel aperture 3, k 0.04) of the gray image, against cv::cornerHarris.
/// cornerHarris always computes in float32 (an 8-bit input is converted first), so the 8-bit call is an extra.
public class CornerBenchmarks : ImageBenchmarkBase
{
    private Mat[] _harrisF32 = [], _harrisU8 = [];

    protected override void Prepare() { _harrisF32 = Outputs(); _harrisU8 = Outputs(); }

    [Benchmark(Baseline = true), BenchmarkCategory("Harris")]
    public void Harris_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.CornerHarris(GrayF32[i], _harrisF32[i], 2, 3, 0.04); }

    [Benchmark, BenchmarkCategory("Harris")]
    public void Harris_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.CornerHarris(GrayU8[i], _harrisU8[i], 2, 3, 0.04); }

    [Benchmark, BenchmarkCategory("Harris")]
    public void Harris_Library() { using var scope = torch.NewDisposeScope(); Corners.Harris(Gray, 2, 3, 0.04); }
}
