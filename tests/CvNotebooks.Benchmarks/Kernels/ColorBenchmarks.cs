using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using TorchSharp;
using Cs = CvNotebooks.Color.ColorSpaces;

namespace CvNotebooks.Benchmarks.Kernels;

/// Colour conversions: BGR to gray and RGB to HSV, against cv::cvtColor.
public class ColorBenchmarks : ImageBenchmarkBase
{
    private Mat[] _grayF32 = [], _grayU8 = [], _hsvF32 = [], _hsvU8 = [];

    protected override void Prepare()
    {
        _grayF32 = Outputs(); _grayU8 = Outputs(); _hsvF32 = Outputs(); _hsvU8 = Outputs();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("BgrToGray")]
    public void BgrToGray_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.CvtColor(BgrF32[i], _grayF32[i], ColorConversionCodes.BGR2GRAY); }

    [Benchmark, BenchmarkCategory("BgrToGray")]
    public void BgrToGray_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.CvtColor(BgrU8[i], _grayU8[i], ColorConversionCodes.BGR2GRAY); }

    [Benchmark, BenchmarkCategory("BgrToGray")]
    public void BgrToGray_Library() { using var scope = torch.NewDisposeScope(); Cs.BgrToGray(Bgr); }

    // OpenCV's Mats are BGR, so BGR2HSV is its RGB-to-HSV (the same arithmetic with the channels read in the other order).
    [Benchmark(Baseline = true), BenchmarkCategory("RgbToHsv")]
    public void RgbToHsv_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.CvtColor(BgrF32[i], _hsvF32[i], ColorConversionCodes.BGR2HSV); }

    [Benchmark, BenchmarkCategory("RgbToHsv")]
    public void RgbToHsv_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.CvtColor(BgrU8[i], _hsvU8[i], ColorConversionCodes.BGR2HSV); }

    [Benchmark, BenchmarkCategory("RgbToHsv")]
    public void RgbToHsv_Library() { using var scope = torch.NewDisposeScope(); Cs.RgbToHsv(Rgb); }
}
