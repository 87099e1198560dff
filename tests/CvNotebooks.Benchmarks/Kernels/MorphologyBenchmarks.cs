using BenchmarkDotNet.Attributes;
using CvNotebooks.Morphology;
using OpenCvSharp;
using TorchSharp;
using Morph = CvNotebooks.Morphology.Morphology;

namespace CvNotebooks.Benchmarks.Kernels;

/// Morphology on the colour image: erosion with OpenCV's default 3x3 square, dilation with a 5x5 square.
public class MorphologyBenchmarks : ImageBenchmarkBase
{
    private Mat _rect5 = null!;
    private bool[,] _element5 = null!;
    private Mat[] _erodeF32 = [], _erodeU8 = [], _dilateF32 = [], _dilateU8 = [];

    protected override void Prepare()
    {
        _rect5 = Cv2.GetStructuringElement(MorphShapes.Rect, new OpenCvSharp.Size(5, 5));
        _element5 = Element.Rect(5);
        _erodeF32 = Outputs(); _erodeU8 = Outputs(); _dilateF32 = Outputs(); _dilateU8 = Outputs();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Erode3x3")]
    public void Erode_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.Erode(BgrF32[i], _erodeF32[i], null); }

    [Benchmark, BenchmarkCategory("Erode3x3")]
    public void Erode_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.Erode(BgrU8[i], _erodeU8[i], null); }

    [Benchmark, BenchmarkCategory("Erode3x3")]
    public void Erode_Library() { using var scope = torch.NewDisposeScope(); Morph.Erode(Rgb); }

    [Benchmark(Baseline = true), BenchmarkCategory("Dilate5x5")]
    public void Dilate_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.Dilate(BgrF32[i], _dilateF32[i], _rect5); }

    [Benchmark, BenchmarkCategory("Dilate5x5")]
    public void Dilate_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.Dilate(BgrU8[i], _dilateU8[i], _rect5); }

    [Benchmark, BenchmarkCategory("Dilate5x5")]
    public void Dilate_Library() { using var scope = torch.NewDisposeScope(); Morph.Dilate(Rgb, _element5); }
}
