using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using TorchSharp;
using Geo = CvNotebooks.Geometry.Geometry;

namespace CvNotebooks.Benchmarks.Kernels;

/// Geometry on the colour image: bilinear resize to half size, one pyramid level down, and a perspective warp to the
/// same size (bilinear, constant border) by a homography that pulls the corners in by 5-12%.
public class GeometryBenchmarks : ImageBenchmarkBase
{
    private Mat _homography = null!;
    private double[,] _matrix = null!;
    private Mat[] _resizeF32 = [], _resizeU8 = [], _pyrF32 = [], _pyrU8 = [], _warpF32 = [], _warpU8 = [];

    protected override void Prepare()
    {
        float w = Width, h = Height;
        Point2f[] from = [new(0, 0), new(w, 0), new(w, h), new(0, h)];
        Point2f[] to = [new(0.05f * w, 0.08f * h), new(0.93f * w, 0.05f * h), new(0.88f * w, 0.95f * h), new(0.12f * w, 0.9f * h)];
        _homography = Cv2.GetPerspectiveTransform(from, to);
        _matrix = new double[3, 3];
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 3; c++)
                _matrix[r, c] = _homography.At<double>(r, c);
        _resizeF32 = Outputs(); _resizeU8 = Outputs(); _pyrF32 = Outputs(); _pyrU8 = Outputs(); _warpF32 = Outputs(); _warpU8 = Outputs();
    }

    private OpenCvSharp.Size Half => new(Width / 2, Height / 2);
    private OpenCvSharp.Size Same => new(Width, Height);

    [Benchmark(Baseline = true), BenchmarkCategory("ResizeHalfBilinear")]
    public void Resize_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.Resize(BgrF32[i], _resizeF32[i], Half, 0, 0, InterpolationFlags.Linear); }

    [Benchmark, BenchmarkCategory("ResizeHalfBilinear")]
    public void Resize_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.Resize(BgrU8[i], _resizeU8[i], Half, 0, 0, InterpolationFlags.Linear); }

    [Benchmark, BenchmarkCategory("ResizeHalfBilinear")]
    public void Resize_Library() { using var scope = torch.NewDisposeScope(); Geo.Resize(Rgb, Height / 2, Width / 2); }

    [Benchmark(Baseline = true), BenchmarkCategory("PyrDown")]
    public void PyrDown_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.PyrDown(BgrF32[i], _pyrF32[i]); }

    [Benchmark, BenchmarkCategory("PyrDown")]
    public void PyrDown_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.PyrDown(BgrU8[i], _pyrU8[i]); }

    [Benchmark, BenchmarkCategory("PyrDown")]
    public void PyrDown_Library() { using var scope = torch.NewDisposeScope(); Geo.PyrDown(Rgb); }

    [Benchmark(Baseline = true), BenchmarkCategory("WarpPerspective")]
    public void Warp_OpenCvF32() { for (var i = 0; i < Count; i++) Cv2.WarpPerspective(BgrF32[i], _warpF32[i], _homography, Same, InterpolationFlags.Linear, BorderTypes.Constant); }

    [Benchmark, BenchmarkCategory("WarpPerspective")]
    public void Warp_OpenCvU8() { for (var i = 0; i < Count; i++) Cv2.WarpPerspective(BgrU8[i], _warpU8[i], _homography, Same, InterpolationFlags.Linear, BorderTypes.Constant); }

    [Benchmark, BenchmarkCategory("WarpPerspective")]
    public void Warp_Library() { using var scope = torch.NewDisposeScope(); Geo.WarpPerspective(Rgb, _matrix, Height, Width); }
}
