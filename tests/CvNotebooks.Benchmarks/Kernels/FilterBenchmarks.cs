using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using TorchSharp;
using Filt = CvNotebooks.Filters.Filters;

namespace CvNotebooks.Benchmarks.Kernels;

/// Filters: Gaussian 5x5 and box 5x5 on the colour image, Sobel d/dx 3x3 and Canny(50, 150) on the gray image.
/// Canny has no float baseline: cv::Canny takes 8-bit images only, so its baseline is the 8-bit call.
public class FilterBenchmarks : ImageBenchmarkBase
{
    private static readonly OpenCvSharp.Size K5 = new(5, 5);
    private Mat[] _gaussF32 = [], _gaussU8 = [], _boxF32 = [], _boxU8 = [], _sobelF32 = [], _sobelU8 = [], _canny = [];

    protected override void Prepare()
    {
        _gaussF32 = Outputs(); _gaussU8 = Outputs(); _boxF32 = Outputs(); _boxU8 = Outputs();
        _sobelF32 = Outputs(); _sobelU8 = Outputs(); _canny = Outputs();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("GaussianBlur5x5")]
    public void Gaussian_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.GaussianBlur(BgrF32[i], _gaussF32[i], K5, 0); }

    [Benchmark, BenchmarkCategory("GaussianBlur5x5")]
    public void Gaussian_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.GaussianBlur(BgrU8[i], _gaussU8[i], K5, 0); }

    [Benchmark, BenchmarkCategory("GaussianBlur5x5")]
    public void Gaussian_Library() { using var scope = torch.NewDisposeScope(); Filt.GaussianBlur(Rgb, 5); }

    [Benchmark(Baseline = true), BenchmarkCategory("BoxBlur5x5")]
    public void Box_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.Blur(BgrF32[i], _boxF32[i], K5); }

    [Benchmark, BenchmarkCategory("BoxBlur5x5")]
    public void Box_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.Blur(BgrU8[i], _boxU8[i], K5); }

    [Benchmark, BenchmarkCategory("BoxBlur5x5")]
    public void Box_Library() { using var scope = torch.NewDisposeScope(); Filt.BoxBlur(Rgb, 5); }

    [Benchmark(Baseline = true), BenchmarkCategory("Sobel3x3")]
    public void Sobel_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.Sobel(GrayF32[i], _sobelF32[i], MatType.CV_32F, 1, 0, 3); }

    [Benchmark, BenchmarkCategory("Sobel3x3")]
    public void Sobel_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.Sobel(GrayU8[i], _sobelU8[i], MatType.CV_16S, 1, 0, 3); }

    [Benchmark, BenchmarkCategory("Sobel3x3")]
    public void Sobel_Library() { using var scope = torch.NewDisposeScope(); Filt.Sobel(Gray, 1, 0, 3); }

    [Benchmark(Baseline = true), BenchmarkCategory("Canny")]
    public void Canny_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.Canny(GrayU8[i], _canny[i], 50, 150); }

    [Benchmark, BenchmarkCategory("Canny")]
    public void Canny_Library() { using var scope = torch.NewDisposeScope(); Filt.Canny(Gray, 50, 150); }
}
