using CvNotebooks.Features;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

/// Corner responses against cv::cornerHarris and cv::cornerMinEigenVal on float grey images, and corner lists
/// against cv::goodFeaturesToTrack. The responses are sums of products of float derivatives; OpenCV sums in another
/// order (row filter first, running box sums), so they agree to float rounding, not bit for bit.
public class CornerTests
{
    /// A grey sample as a float Mat in [0,1] and the same image as a (1,1,H,W) tensor, downscaled (INTER_AREA) to
    /// at most `maxWidth` columns so the tests stay fast.
    private static (Mat Mat, Tensor Tensor) Gray(string name, Device device, int maxWidth = 640)
    {
        using var mat = TestImages.Read(name, ImreadModes.Grayscale);
        using var small = new Mat();
        if (mat.Cols > maxWidth)
            Cv2.Resize(mat, small, new OpenCvSharp.Size(maxWidth, (int)Math.Round(mat.Rows * (double)maxWidth / mat.Cols)), interpolation: InterpolationFlags.Area);
        else mat.CopyTo(small);
        var t = TensorMat.ToTensor(small, device: device);
        return (TensorMat.ToFloatMat(t), t);
    }

    /// Compares two response maps on the interior (a margin of `margin` pixels left out, where neither border rule
    /// matters) relative to the largest response: max |ours - OpenCV| <= rtol · max |OpenCV|.
    private static void AssertClose(Mat expected, Tensor ours, int margin, double rtol, string what)
    {
        using var mine = TensorMat.ToFloatMat(ours);
        var roi = new Rect(margin, margin, expected.Cols - 2 * margin, expected.Rows - 2 * margin);
        using var e = new Mat(expected, roi);
        using var m = new Mat(mine, roi);
        e.MinMaxLoc(out double lo, out double hi);
        var peak = Math.Max(Math.Abs(lo), Math.Abs(hi));
        Assert.True(peak > 0, $"{what}: OpenCV's response is all zero; the test image has no structure");
        var diff = TestImages.MaxAbsDiff(e, m);
        Assert.True(diff <= rtol * peak, $"{what}: max abs diff {diff:E3} is {diff / peak:E2} of the peak {peak:E3} (allowed {rtol:E0})");
        // And over the whole image, borders included: the same reflect-101 borders as OpenCV.
        var whole = TestImages.MaxAbsDiff(expected, mine);
        Assert.True(whole <= rtol * peak, $"{what}: with borders, max abs diff {whole:E3} is {whole / peak:E2} of the peak");
    }

    public static TheoryData<string, string, int, int> ResponseCases()
    {
        var data = new TheoryData<string, string, int, int>();
        foreach (var device in new[] { "cpu", "cuda" })
        {
            data.Add(device, "chessboard.png", 2, 3);   // the tutorial's cornerHarris(gray, 2, 3, 0.04)
            data.Add(device, "building.jpg", 3, 3);
            data.Add(device, "left01.jpg", 4, 5);       // an even block: anchor at 2, one row and column more before
            data.Add(device, "sudoku.png", 5, 7);
            data.Add(device, "building.jpg", 3, 1);     // Sobel aperture 1: [-1 0 1] without smoothing
            data.Add(device, "left01.jpg", 2, -1);      // Scharr
        }
        return data;
    }

    /// Tolerance: 1e-5 of the peak response (float32 rounding of sums in a different order; seen: below 1e-6).
    [SkippableTheory, MemberData(nameof(ResponseCases)), Trait("Category", "Reference")]
    public void Harris_matches_cornerHarris(string deviceName, string name, int blockSize, int ksize)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var (src, image) = Gray(name, device);
        using var _ = src;
        var ours = Corners.Harris(image, blockSize, ksize, 0.04);
        Assert.Equal(image.shape, ours.shape);
        Assert.Equal(device.type, ours.device.type);
        using var cv = new Mat();
        Cv2.CornerHarris(src, cv, blockSize, ksize, 0.04);
        AssertClose(cv, ours, margin: blockSize + Math.Abs(ksize), rtol: 1e-5, $"Harris on {name}, block {blockSize}, ksize {ksize}");
    }

    /// Tolerance: 1e-5 of the peak response, as for Harris.
    [SkippableTheory, MemberData(nameof(ResponseCases)), Trait("Category", "Reference")]
    public void ShiTomasi_matches_cornerMinEigenVal(string deviceName, string name, int blockSize, int ksize)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var (src, image) = Gray(name, device);
        using var _ = src;
        var ours = Corners.ShiTomasi(image, blockSize, ksize);
        Assert.Equal(device.type, ours.device.type);
        using var cv = new Mat();
        Cv2.CornerMinEigenVal(src, cv, blockSize, ksize);
        AssertClose(cv, ours, margin: blockSize + Math.Abs(ksize), rtol: 1e-5, $"min eigenvalue on {name}, block {blockSize}, ksize {ksize}");
    }

    public static TheoryData<string, string, bool> FeatureCases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var device in new[] { "cpu", "cuda" })
            foreach (var name in new[] { "chessboard.png", "building.jpg", "left01.jpg" })
                foreach (var harris in new[] { false, true })
                    data.Add(device, name, harris);
        return data;
    }

    /// At least 90% of OpenCV's corners have one of ours within 1.5 px, and we find about as many (±10%). On these
    /// images the lists are in fact identical, but that is not promised: near-equal responses can swap order under
    /// float rounding, and the greedy minDistance rule then keeps a neighbour instead.
    [SkippableTheory, MemberData(nameof(FeatureCases)), Trait("Category", "Reference")]
    public void GoodFeaturesToTrack_finds_OpenCVs_corners(string deviceName, string name, bool harris)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var (src, image) = Gray(name, device);
        using var _ = src;
        const int maxCorners = 300;
        const double quality = 0.01, minDistance = 10;
        var found = Corners.GoodFeaturesToTrack(image, maxCorners, quality, minDistance, blockSize: 3, useHarris: harris, k: 0.04);
        Assert.Single(found);
        var ours = found[0];
        Assert.Equal(device.type, ours.device.type);
        Assert.Equal(2, ours.shape[1]);
        var cv = Cv2.GoodFeaturesToTrack(src, maxCorners, quality, minDistance, null!, 3, harris, 0.04);
        Assert.True(cv.Length > 20, $"OpenCV found only {cv.Length} corners on {name}");

        var xy = ours.cpu().data<float>().ToArray();
        var mine = Enumerable.Range(0, xy.Length / 2).Select(i => (X: xy[2 * i], Y: xy[2 * i + 1])).ToArray();
        var matched = cv.Count(p => mine.Any(q => (p.X - q.X) * (p.X - q.X) + (p.Y - q.Y) * (p.Y - q.Y) <= 1.5 * 1.5));
        var share = matched / (double)cv.Length;
        Assert.True(share >= 0.9, $"{name} ({(harris ? "Harris" : "Shi-Tomasi")}): {matched} of OpenCV's {cv.Length} corners matched ({share:P1}); we found {mine.Length}");
        Assert.InRange(mine.Length, (int)(cv.Length * 0.9), (int)Math.Ceiling(cv.Length * 1.1));

        // Our own promises: within the limit, at least minDistance apart, off the outer pixel ring.
        Assert.True(mine.Length <= maxCorners);
        for (var i = 0; i < mine.Length; i++)
        {
            Assert.InRange(mine[i].X, 1, src.Cols - 2);
            Assert.InRange(mine[i].Y, 1, src.Rows - 2);
            for (var j = 0; j < i; j++)
            {
                var d2 = (mine[i].X - mine[j].X) * (mine[i].X - mine[j].X) + (mine[i].Y - mine[j].Y) * (mine[i].Y - mine[j].Y);
                Assert.True(d2 >= minDistance * minDistance, $"corners {j} and {i} are {Math.Sqrt(d2):F1} px apart");
            }
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void GoodFeaturesToTrack_on_a_batch_gives_each_images_corners_strongest_first(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var (m1, a) = Gray("left01.jpg", device);
        var (m2, b) = Gray("left02.jpg", device);
        m1.Dispose();
        m2.Dispose();
        var both = Corners.GoodFeaturesToTrack(cat([a, b], 0), 50, 0.05, 8);
        Assert.Equal(2, both.Length);
        Assert.True(Same(both[0], Corners.GoodFeaturesToTrack(a, 50, 0.05, 8)[0]));
        Assert.True(Same(both[1], Corners.GoodFeaturesToTrack(b, 50, 0.05, 8)[0]));
        Assert.Equal(50, both[0].shape[0]);

        // Strongest first: the responses at the returned corners never increase.
        var response = Corners.ShiTomasi(a, 3, 3)[0, 0];
        var xy = both[0].cpu().data<float>().ToArray();
        var values = Enumerable.Range(0, xy.Length / 2).Select(i => response[(long)xy[2 * i + 1], (long)xy[2 * i]].item<float>()).ToArray();
        for (var i = 1; i < values.Length; i++) Assert.True(values[i] <= values[i - 1]);

        // No limit and no minimum distance: every 3x3 local maximum above the quality threshold.
        var all = Corners.GoodFeaturesToTrack(a, 0, 0.05, 0)[0];
        Assert.True(all.shape[0] > 50);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Bad_input_is_rejected_with_a_reason()
    {
        using var scope = NewDisposeScope();
        var gray = rand(1, 1, 32, 32);
        var e = Assert.Throws<ArgumentException>(() => Corners.Harris(rand(1, 3, 32, 32)));
        Assert.Contains("1 channel", e.Message);
        e = Assert.Throws<ArgumentException>(() => Corners.ShiTomasi(rand(32, 32)));
        Assert.Contains("(B,C,H,W)", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => Corners.Harris(gray, 2, 4));
        Assert.Equal("ksize", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Corners.ShiTomasi(gray, 0));
        Assert.Equal("blockSize", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Corners.GoodFeaturesToTrack(gray, 10, 0, 5));
        Assert.Equal("qualityLevel", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Corners.GoodFeaturesToTrack(gray, 10, 0.01, -1));
        Assert.Equal("minDistance", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Corners.GoodFeaturesToTrack(gray, -1, 0.01, 5));
        Assert.Equal("maxCorners", r.ParamName);
    }
}
