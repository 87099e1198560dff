using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using OpenCvSharp.Dnn;
using TorchSharp;
using static TorchSharp.torch;
using BoxOps = CvNotebooks.Boxes.Boxes;

namespace CvNotebooks.Benchmarks.Kernels;

/// Non-maximum suppression (IoU threshold 0.5) of 1000 detector-like boxes on a 1920x1080 frame: 100 objects, each
/// seen as 10 jittered boxes with random scores, the way a detector's raw output looks. "16x1000" is a batch of 16
/// such frames: OpenCV calls NMSBoxes once per frame, the library makes one BatchedNms call over the 16000 boxes
/// with the frame index as the class (torchvision's batched_nms idiom for per-image NMS).
[Config(typeof(KernelConfig))]
public class NmsBenchmarks
{
    private const int BoxesPerFrame = 1000;
    private const float IouThreshold = 0.5f;

    [Params("1000", "16x1000")]
    public string Boxes { get; set; } = "1000";

    private Rect2d[][] _rects = [];
    private float[][] _scores = [];
    private Tensor _boxes = null!, _scoresT = null!, _frames = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(ImageBenchmarkBase.Threads);
        Cv2.SetNumThreads(ImageBenchmarkBase.Threads);
        var frames = Boxes == "1000" ? 1 : 16;
        var random = new Random(20240601);
        _rects = new Rect2d[frames][];
        _scores = new float[frames][];
        var xyxy = new float[frames * BoxesPerFrame * 4];
        var frameIds = new long[frames * BoxesPerFrame];
        for (var f = 0; f < frames; f++)
        {
            _rects[f] = new Rect2d[BoxesPerFrame];
            _scores[f] = new float[BoxesPerFrame];
            for (var o = 0; o < BoxesPerFrame / 10; o++)
            {
                double w = 40 + random.NextDouble() * 260, h = 40 + random.NextDouble() * 260;
                double cx = random.NextDouble() * 1920, cy = random.NextDouble() * 1080;
                for (var j = 0; j < 10; j++)
                {
                    var k = o * 10 + j;
                    double bw = w * (0.85 + 0.3 * random.NextDouble()), bh = h * (0.85 + 0.3 * random.NextDouble());
                    double x = Math.Clamp(cx + (random.NextDouble() - 0.5) * 0.3 * w - bw / 2, 0, 1920 - bw);
                    double y = Math.Clamp(cy + (random.NextDouble() - 0.5) * 0.3 * h - bh / 2, 0, 1080 - bh);
                    // float32 coordinates on both sides, so both see the same boxes.
                    float x1 = (float)x, y1 = (float)y, x2 = (float)(x + bw), y2 = (float)(y + bh);
                    _rects[f][k] = new Rect2d(x1, y1, x2 - x1, y2 - y1);
                    _scores[f][k] = (float)random.NextDouble();
                    var n = f * BoxesPerFrame + k;
                    xyxy[4 * n] = x1; xyxy[4 * n + 1] = y1; xyxy[4 * n + 2] = x2; xyxy[4 * n + 3] = y2;
                    frameIds[n] = f;
                }
            }
        }
        _boxes = tensor(xyxy, [frames * BoxesPerFrame, 4]);
        _scoresT = tensor(_scores.SelectMany(s => s).ToArray());
        _frames = tensor(frameIds);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _boxes.Dispose();
        _scoresT.Dispose();
        _frames.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Nms")]
    public int Nms_OpenCv()
    {
        var kept = 0;
        for (var f = 0; f < _rects.Length; f++)
        {
            CvDnn.NMSBoxes(_rects[f], _scores[f], 0f, IouThreshold, out var indices);
            kept += indices.Length;
        }
        return kept;
    }

    [Benchmark, BenchmarkCategory("Nms")]
    public long Nms_Library()
    {
        using var scope = torch.NewDisposeScope();
        var kept = _rects.Length == 1 ? BoxOps.Nms(_boxes, _scoresT, IouThreshold) : BoxOps.BatchedNms(_boxes, _scoresT, _frames, IouThreshold);
        return kept.shape[0];
    }

    /// An extra: the library's plain Nms called once per frame, as OpenCV is (the same as Nms_Library for one frame).
    [Benchmark, BenchmarkCategory("Nms")]
    public long Nms_LibraryPerFrame()
    {
        using var scope = torch.NewDisposeScope();
        long kept = 0;
        for (var f = 0; f < _rects.Length; f++)
        {
            var rows = TensorIndex.Slice(f * BoxesPerFrame, (f + 1) * BoxesPerFrame);
            kept += BoxOps.Nms(_boxes[rows], _scoresT[rows], IouThreshold).shape[0];
        }
        return kept;
    }
}
