using BenchmarkDotNet.Attributes;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Benchmarks.Kernels;

/// The inputs every image benchmark shares, made once per case in GlobalSetup from a real photo (OpenCV's sample
/// fruits.jpg, 512x480): either one 1920x1080 image, or 16 different 512x512 images (crops of the photo at 16
/// positions and scales, every other one mirrored). OpenCV works image by image on float32 Mats (the like-for-like
/// baseline) or 8-bit Mats (an extra); the library takes the whole batch as one (B,C,H,W) float32 tensor in [0,1].
/// Both sides run on 2 threads, set here for both.
[Config(typeof(KernelConfig))]
public abstract class ImageBenchmarkBase
{
    public const string Full = "1920x1080";
    public const string Batch = "16x512x512";
    public const string FruitsPath = "/usr/share/doc/opencv-doc/examples/data/fruits.jpg";
    public const int Threads = 2;

    [Params(Full, Batch)]
    public string Size { get; set; } = Full;

    protected int Count { get; private set; }
    protected int Width { get; private set; }
    protected int Height { get; private set; }

    protected Mat[] BgrU8 { get; private set; } = [];
    protected Mat[] BgrF32 { get; private set; } = [];
    protected Mat[] GrayU8 { get; private set; } = [];
    protected Mat[] GrayF32 { get; private set; } = [];

    /// (B,3,H,W) RGB, (B,3,H,W) BGR and (B,1,H,W) gray (OpenCV's gray of the 8-bit image), float32 in [0,1].
    protected Tensor Rgb { get; private set; } = null!;
    protected Tensor Bgr { get; private set; } = null!;
    protected Tensor Gray { get; private set; } = null!;

    private readonly List<Mat> _outputs = [];

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        Cv2.SetNumThreads(Threads);
        if (!File.Exists(FruitsPath))
            throw new FileNotFoundException($"the benchmark image is missing; install it with: apt-get install opencv-doc ({FruitsPath})");
        using var photo = Cv2.ImRead(FruitsPath, ImreadModes.Color);
        BgrU8 = Size == Full ? [Resized(photo, 1920, 1080)] : Enumerable.Range(0, 16).Select(i => Crop(photo, i)).ToArray();
        Count = BgrU8.Length;
        Width = BgrU8[0].Width;
        Height = BgrU8[0].Height;
        BgrF32 = BgrU8.Select(m => { var f = new Mat(); m.ConvertTo(f, MatType.CV_32FC3, 1 / 255.0); return f; }).ToArray();
        GrayU8 = BgrU8.Select(m => { var g = new Mat(); Cv2.CvtColor(m, g, ColorConversionCodes.BGR2GRAY); return g; }).ToArray();
        GrayF32 = GrayU8.Select(m => { var f = new Mat(); m.ConvertTo(f, MatType.CV_32FC1, 1 / 255.0); return f; }).ToArray();
        Rgb = Stack(BgrU8, ChannelOrder.Rgb);
        Bgr = Stack(BgrU8, ChannelOrder.Bgr);
        Gray = Stack(GrayU8, ChannelOrder.Rgb);
        Prepare();
    }

    /// Per-class inputs (matrices, structuring elements); runs after the images are ready.
    protected virtual void Prepare() { }

    /// One empty output Mat per image, reused by OpenCV from the second call on (as a loop over frames would).
    protected Mat[] Outputs()
    {
        var outputs = Enumerable.Range(0, Count).Select(_ => new Mat()).ToArray();
        _outputs.AddRange(outputs);
        return outputs;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var m in BgrU8.Concat(BgrF32).Concat(GrayU8).Concat(GrayF32).Concat(_outputs)) m.Dispose();
        _outputs.Clear();
        Rgb.Dispose();
        Bgr.Dispose();
        Gray.Dispose();
    }

    private static Mat Resized(Mat src, int width, int height)
    {
        var dst = new Mat();
        Cv2.Resize(src, dst, new OpenCvSharp.Size(width, height), 0, 0, InterpolationFlags.Cubic);
        return dst;
    }

    /// The i-th of 16 different 512x512 images: a square crop of side 320..470 px moving across the photo.
    private static Mat Crop(Mat photo, int i)
    {
        var side = 320 + 10 * i;
        var x = (photo.Width - side) * i / 15;
        var y = (photo.Height - side) * (15 - i) / 15;
        using var roi = new Mat(photo, new Rect(x, y, side, side));
        var dst = Resized(roi, 512, 512);
        if (i % 2 == 1) Cv2.Flip(dst, dst, FlipMode.Y);
        return dst;
    }

    private static Tensor Stack(Mat[] mats, ChannelOrder order)
    {
        using var scope = NewDisposeScope();
        var batch = cat(mats.Select(m => TensorMat.ToTensor(m, order)).ToArray(), 0).contiguous();
        return batch.MoveToOuterDisposeScope();
    }
}
