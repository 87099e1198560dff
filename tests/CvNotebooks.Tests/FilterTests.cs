using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

// Inside namespace CvNotebooks.*, the bare name Filters would bind to the namespace CvNotebooks.Filters.
using Filters = CvNotebooks.Filters.Filters;

/// Each filter against its OpenCvSharp namesake on real photographs. OpenCV gets exactly the floats our kernel gets
/// (the tensor copied into a CV_32F Mat, channels as stored, since every filter here treats channels alike), so
/// differences are only float rounding, stated per test.
public class FilterTests
{
    private static Mat ToCv(Tensor t) => TensorMat.ToFloatMat(t);

    private static float MaxAbsDiff(Tensor ours, Mat expected) =>
        (ours.cpu() - TensorMat.ToTensor(expected, ChannelOrder.Bgr)).abs().max().item<float>();

    /// A sample scaled to the given width (INTER_AREA), as a (1,C,H,W) tensor on the device: sizes stay small where
    /// size is not the point.
    private static Tensor Sample(string name, Device device, int width, ImreadModes mode = ImreadModes.Color)
    {
        using var full = TestImages.Read(name, mode);
        using var small = new Mat();
        Cv2.Resize(full, small, new OpenCvSharp.Size(width, (int)Math.Round((double)full.Rows * width / full.Cols)), interpolation: InterpolationFlags.Area);
        return TensorMat.ToTensor(small, ChannelOrder.Rgb, device);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void BoxBlur_matches_OpenCV_blur(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var image = TestImages.Tensor("fruits.jpg", device);
        using var src = ToCv(image);
        foreach (var k in new[] { 3, 5, 9 })
        {
            var ours = Filters.BoxBlur(image, k);
            Assert.Equal(device.type, ours.device.type);
            using var expected = new Mat();
            Cv2.Blur(src, expected, new OpenCvSharp.Size(k, k)); // BORDER_REFLECT_101 by default
            // Sum of k² floats in a different order: 1e-5 on [0,1] values.
            Assert.True(MaxAbsDiff(ours, expected) <= 1e-5f, $"k={k}: max diff {MaxAbsDiff(ours, expected)}");
        }
        using var replicated = new Mat();
        Cv2.Blur(src, replicated, new OpenCvSharp.Size(5, 5), borderType: BorderTypes.Replicate);
        Assert.True(MaxAbsDiff(Filters.BoxBlur(image, 5, Border.Replicate), replicated) <= 1e-5f, "replicated borders");
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void GaussianBlur_matches_OpenCV_on_real_images(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        foreach (var name in new[] { "fruits.jpg", "baboon.jpg" })
        {
            var image = TestImages.Tensor(name, device);
            using var src = ToCv(image);
            foreach (var (k, sigma) in new[] { (5, 0.0), (3, 0.0), (9, 0.0), (7, 1.5), (11, 0.0), (0, 2.0) })
            {
                var ours = Filters.GaussianBlur(image, k, sigma);
                using var expected = new Mat();
                Cv2.GaussianBlur(src, expected, new OpenCvSharp.Size(k, k), sigma);
                // Tolerance 1e-5 on [0,1] floats (far below 1/255): the same kernel, summed in another order.
                Assert.True(MaxAbsDiff(ours, expected) <= 1e-5f, $"{name} k={k} sigma={sigma}: max diff {MaxAbsDiff(ours, expected)}");
            }
        }
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void GaussianKernel_is_OpenCVs_getGaussianKernel()
    {
        foreach (var (k, sigma) in new[] { (1, 0.0), (3, 0.0), (5, 0.0), (7, 0.0), (9, 0.0), (11, 0.0), (15, 0.0), (5, 1.0), (7, 2.5), (9, 3.0) })
        {
            using var expected = Cv2.GetGaussianKernel(k, sigma, MatType.CV_32F)!;
            var ours = Filters.GaussianKernel(k, sigma);
            for (var i = 0; i < k; i++)
                Assert.Equal(expected.At<float>(i, 0), ours[i], 1e-6f);
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void MedianBlur_matches_OpenCV_exactly(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var image = TestImages.Tensor("baboon.jpg", device);
        using var src = ToCv(image);
        // OpenCV's float median supports 3 and 5; a median picks one of the inputs, so the results must be equal.
        foreach (var k in new[] { 3, 5 })
        {
            var ours = Filters.MedianBlur(image, k);
            Assert.Equal(device.type, ours.device.type);
            using var expected = new Mat();
            Cv2.MedianBlur(src, expected, k);
            Assert.Equal(0f, MaxAbsDiff(ours, expected));
        }
        // Larger windows: OpenCV's 8-bit median (exact again: the median of k/255 values is one of them).
        var small = Sample("fruits.jpg", device, 256);
        using var small8 = TensorMat.ToMat(small);
        foreach (var k in new[] { 7, 9 })
        {
            using var expected8 = new Mat();
            Cv2.MedianBlur(small8, expected8, k);
            using var ours8 = TensorMat.ToMat(Filters.MedianBlur(small, k));
            Assert.Equal(0, TestImages.MaxAbsDiff(ours8, expected8));
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Bilateral_matches_OpenCV_bilateralFilter_on_float(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var color = Sample("baboon.jpg", device, 256);
        var gray = Sample("fruits.jpg", device, 256, ImreadModes.Grayscale);
        foreach (var (image, d, sigmaColor, sigmaSpace) in new[] { (color, 9, 0.1, 3.0), (gray, 5, 0.2, 2.0), (color, 0, 0.05, 2.0) })
        {
            var ours = Filters.Bilateral(image, d, sigmaColor, sigmaSpace);
            using var src = ToCv(image);
            using var expected = new Mat();
            Cv2.BilateralFilter(src, expected, d, sigmaColor, sigmaSpace);
            // OpenCV looks the colour weight up in a linearly interpolated exp table; we evaluate exp. Tolerance 1e-4.
            Assert.True(MaxAbsDiff(ours, expected) <= 1e-4f, $"d={d}: max diff {MaxAbsDiff(ours, expected)}");
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Sobel_Scharr_and_Laplacian_match_OpenCV(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var image = TestImages.Tensor("building.jpg", device, ImreadModes.Grayscale);
        using var src = ToCv(image);
        // Signed outputs up to ~16 (Scharr) or ~40 (Laplacian 5): tolerance 1e-4, float rounding of the same sums.
        foreach (var (dx, dy, k) in new[] { (1, 0, 3), (0, 1, 3), (1, 1, 3), (2, 0, 3), (1, 0, 5), (0, 2, 7), (1, 0, 1), (0, 2, 1) })
        {
            var ours = Filters.Sobel(image, dx, dy, k);
            using var expected = new Mat();
            Cv2.Sobel(src, expected, MatType.CV_32F, dx, dy, k);
            Assert.True(MaxAbsDiff(ours, expected) <= 1e-4f, $"Sobel dx={dx} dy={dy} k={k}: max diff {MaxAbsDiff(ours, expected)}");
        }
        foreach (var (dx, dy) in new[] { (1, 0), (0, 1) })
        {
            var ours = Filters.Scharr(image, dx, dy);
            using var expected = new Mat();
            Cv2.Scharr(src, expected, MatType.CV_32F, dx, dy);
            Assert.True(MaxAbsDiff(ours, expected) <= 1e-4f, $"Scharr dx={dx} dy={dy}: max diff {MaxAbsDiff(ours, expected)}");
        }
        foreach (var k in new[] { 1, 3, 5 })
        {
            var ours = Filters.Laplacian(image, k);
            using var expected = new Mat();
            Cv2.Laplacian(src, expected, MatType.CV_32F, k);
            Assert.True(MaxAbsDiff(ours, expected) <= 1e-4f, $"Laplacian k={k}: max diff {MaxAbsDiff(ours, expected)}");
        }
        // Scale multiplies, as OpenCV's scale argument.
        using var scaled = new Mat();
        Cv2.Sobel(src, scaled, MatType.CV_32F, 1, 0, 3, scale: 0.125);
        Assert.True(MaxAbsDiff(Filters.Sobel(image, 1, 0, 3, scale: 0.125), scaled) <= 1e-5f);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void UnsharpMask_is_OpenCVs_blur_and_addWeighted(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var image = TestImages.Tensor("fruits.jpg", device);
        using var src = ToCv(image);
        using var blurred = new Mat();
        Cv2.GaussianBlur(src, blurred, new OpenCvSharp.Size(5, 5), 1.0);
        using var sharp = new Mat();
        Cv2.AddWeighted(src, 1.5, blurred, -0.5, 0, sharp);
        using var clipped = new Mat();
        Cv2.Min(sharp, new OpenCvSharp.Scalar(1, 1, 1), clipped);
        Cv2.Max(clipped, new OpenCvSharp.Scalar(0, 0, 0), clipped);
        var ours = Filters.UnsharpMask(image, 5, 1.0, amount: 0.5);
        Assert.True(MaxAbsDiff(ours, clipped) <= 1e-5f, $"max diff {MaxAbsDiff(ours, clipped)}");
        Assert.True(MaxAbsDiff(Filters.UnsharpMask(image, 5, 1.0, amount: 0.5, clamp: false), sharp) <= 1e-5f);
    }

    /// Canny edges agree when each detector's edge pixels lie within one pixel of the other's: precision and
    /// recall with a 3x3 tolerance, and the exact pixel agreement for information.
    private static (double precision, double recall, double mismatch) Agreement(Mat ours, Mat reference)
    {
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new OpenCvSharp.Size(3, 3));
        using var oursNear = new Mat();
        using var referenceNear = new Mat();
        Cv2.Dilate(ours, oursNear, kernel);
        Cv2.Dilate(reference, referenceNear, kernel);
        using var hitOurs = new Mat();
        using var hitReference = new Mat();
        using var differ = new Mat();
        Cv2.BitwiseAnd(ours, referenceNear, hitOurs);
        Cv2.BitwiseAnd(reference, oursNear, hitReference);
        Cv2.BitwiseXor(ours, reference, differ);
        var precision = Cv2.CountNonZero(hitOurs) / (double)Math.Max(1, Cv2.CountNonZero(ours));
        var recall = Cv2.CountNonZero(hitReference) / (double)Math.Max(1, Cv2.CountNonZero(reference));
        return (precision, recall, Cv2.CountNonZero(differ) / (double)Math.Max(1, Cv2.CountNonZero(reference)));
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Canny_matches_OpenCV_Canny_on_8bit_images(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var name in new[] { "building.jpg", "sudoku.png", "fruits.jpg" })
        {
            using var gray8 = TestImages.Read(name, ImreadModes.Grayscale);
            foreach (var (low, high, l2) in new[] { (50.0, 150.0, false), (100.0, 200.0, false), (30.0, 90.0, true) })
            {
                using var scope = NewDisposeScope();
                var image = TensorMat.ToTensor(gray8, ChannelOrder.Rgb, device);
                var edges = Filters.Canny(image, low, high, l2);
                Assert.Equal(device.type, edges.device.type);
                Assert.Equal(image.shape, edges.shape);
                using var expected = new Mat();
                Cv2.Canny(gray8, expected, low, high, 3, l2);
                using var ours = TensorMat.ToMat(edges);
                // Required: >= 95% of our edge pixels within 1 pixel of OpenCV's (precision) and >= 95% of OpenCV's
                // within 1 pixel of ours (recall). Same integer gradients and tie-breaking, so it is usually exact.
                var (precision, recall, mismatch) = Agreement(ours, expected);
                var what = $"{name} ({low},{high},L2={l2}): precision {precision:P2}, recall {recall:P2}, pixels differing {mismatch:P2} of OpenCV's edges";
                Assert.True(precision >= 0.95 && recall >= 0.95, what);
                // Stricter, and what we see: the same pixels (at most 1% of OpenCV's edge count may differ).
                Assert.True(mismatch <= 0.01, what);
                Assert.True(Cv2.CountNonZero(expected) > 1000, $"{name}: OpenCV found too few edges for a meaningful test");
            }
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Canny_treats_each_image_of_a_batch_on_its_own(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var a = Sample("building.jpg", device, 320, ImreadModes.Grayscale);
        var b = a.flip(3).contiguous();
        var batch = Filters.Canny(cat([a, b], 0), 50, 150);
        Assert.Equal(0f, (batch[0] - Filters.Canny(a, 50, 150)[0]).abs().max().item<float>());
        Assert.Equal(0f, (batch[1] - Filters.Canny(b, 50, 150)[0]).abs().max().item<float>());
        // Swapped thresholds are put in order, as OpenCV does; a blank image has no edges.
        Assert.Equal(0f, (Filters.Canny(a, 150, 50) - Filters.Canny(a, 50, 150)).abs().max().item<float>());
        Assert.Equal(0f, Filters.Canny(zeros(1, 1, 32, 32, device: device), 10, 20).sum().item<float>());
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Hysteresis_keeps_exactly_the_weak_pixels_8_connected_to_strong_ones(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        const int h = 64, w = 80;
        // A serpentine path through every other row (one long chain: many merge rounds) with one strong pixel at
        // its far end, plus random weak and strong pixels, checked against a flood fill.
        var random = new Random(7);
        var candidate = new bool[2, h, w];
        var strong = new bool[2, h, w];
        for (var y = 0; y < h; y += 2)
        {
            for (var x = 0; x < w; x++) candidate[0, y, x] = true;
            if (y + 1 < h) candidate[0, y + 1, (y / 2) % 2 == 0 ? w - 1 : 0] = true;
        }
        strong[0, h - 2, (h / 2 - 1) % 2 == 0 ? w - 1 : 0] = true;
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                candidate[1, y, x] = random.NextDouble() < 0.45;
                strong[1, y, x] = candidate[1, y, x] && random.NextDouble() < 0.02;
            }
        var expected = new bool[2, h, w];
        for (var b = 0; b < 2; b++)
        {
            var queue = new Queue<(int, int)>();
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                    if (strong[b, y, x]) { expected[b, y, x] = true; queue.Enqueue((y, x)); }
            while (queue.Count > 0)
            {
                var (y, x) = queue.Dequeue();
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int ny = y + dy, nx = x + dx;
                        if (ny < 0 || ny >= h || nx < 0 || nx >= w || !candidate[b, ny, nx] || expected[b, ny, nx]) continue;
                        expected[b, ny, nx] = true;
                        queue.Enqueue((ny, nx));
                    }
            }
        }
        static Tensor ToTensor(bool[,,] a, Device device) =>
            tensor(a.Cast<bool>().ToArray(), device: device).reshape(a.GetLength(0), a.GetLength(1), a.GetLength(2));
        var kept = Filters.Hysteresis(ToTensor(candidate, device), ToTensor(strong, device));
        Assert.Equal(device.type, kept.device.type);
        var want = ToTensor(expected, CPU);
        Assert.True(kept.cpu().eq(want).all().item<bool>(), $"{kept.cpu().ne(want).sum().item<long>()} pixels differ from the flood fill");
        Assert.True(want[0].all().item<bool>() == false && want[0].sum().item<long>() > h * w / 2, "the serpentine is kept whole");
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_the_argument_named()
    {
        using var scope = NewDisposeScope();
        var image = rand(1, 3, 16, 16);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Filters.GaussianBlur(image, 4, 1));
        Assert.Equal("kernelSize", e.ParamName);
        Assert.Contains("odd", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Filters.GaussianBlur(image, 0, 0));
        Assert.Contains("sigma must be positive", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Filters.MedianBlur(image, 2));
        Assert.Equal("kernelSize", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Filters.Bilateral(image, 5, 0, 2));
        Assert.Equal("sigmaColor", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Filters.Sobel(image, 1, 0, 4));
        Assert.Equal("kernelSize", e.ParamName);
        var a = Assert.Throws<ArgumentException>(() => Filters.Sobel(image, 0, 0));
        Assert.Contains("not both 0", a.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Filters.Sobel(image, 3, 0, 3));
        Assert.Equal("dx", e.ParamName);
        a = Assert.Throws<ArgumentException>(() => Filters.Scharr(image, 1, 1));
        Assert.Contains("(1, 0) or (0, 1)", a.Message);
        a = Assert.Throws<ArgumentException>(() => Filters.Canny(image, 50, 150));
        Assert.Contains("1 channel", a.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Filters.Canny(rand(1, 1, 8, 8), -1, 150));
        Assert.Equal("lowThreshold", e.ParamName);
        a = Assert.Throws<ArgumentException>(() => Filters.BoxBlur(rand(16, 16), 3));
        Assert.Contains("(B,C,H,W)", a.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Filters.UnsharpMask(image, 5, 1, amount: -1));
        Assert.Equal("amount", e.ParamName);
    }
}
