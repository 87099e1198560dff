using CsCheck;
using CvNotebooks.Geometry;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
// Inside namespace CvNotebooks.Tests the simple name Geometry means the namespace CvNotebooks.Geometry.
using Geo = CvNotebooks.Geometry.Geometry;

namespace CvNotebooks.Tests;

/// Geometric transforms against cv::resize, cv::flip, cv::warpAffine, cv::warpPerspective, cv::pyrDown and cv::pyrUp
/// on real photos. Our kernels work in float32; OpenCV works on the 8-bit photo and rounds its result to 8 bits, so
/// a perfect float result already differs by up to 0.5/255. Tolerances, with what was measured on the CPU:
/// - Resize Nearest, Flip, nearest warps: exact (OpenCV's index arithmetic is reproduced, fixed point included).
/// - Resize Bilinear and Area, PyrDown, PyrUp: max abs diff at most 1/255 over the whole image (measured 0.76/255
///   for Resize, 0.50/255 for the pyramid).
/// - Bilinear warps: mean abs diff at most 0.5/255 and max at most 4/255 (measured mean 0.20-0.25/255, max
///   3.4/255). OpenCV rounds each source coordinate to 1/32 pixel and uses fixed-point weights; we interpolate at the
///   exact coordinate, so strong edges differ by up to (1/64 px) x (edge slope).
public class GeometryTests
{
    private const float OneLevel = 1 / 255f;

    public static TheoryData<string, Interpolation, int, int> ResizeCases()
    {
        var data = new TheoryData<string, Interpolation, int, int>();
        foreach (var device in new[] { "cpu", "cuda" })
            foreach (var mode in new[] { Interpolation.Nearest, Interpolation.Bilinear, Interpolation.Area })
                foreach (var (h, w) in new[] { (240, 256), (333, 250), (700, 1000), (300, 700), (17, 23) })
                    data.Add(device, mode, h, w);
        return data;
    }

    /// fruits.jpg is 512x480: halving, odd non-integer shrinking, enlarging, shrinking one axis while enlarging the
    /// other, and a tiny thumbnail.
    [SkippableTheory, MemberData(nameof(ResizeCases)), Trait("Category", "Reference")]
    public void Resize_matches_OpenCV(string deviceName, Interpolation mode, int height, int width)
    {
        var device = TestDevices.Get(deviceName);
        using var bgr = TestImages.Read("fruits.jpg");
        using var scope = NewDisposeScope();
        var image = TensorMat.ToTensor(bgr, ChannelOrder.Rgb, device);
        var ours = Geo.Resize(image, height, width, mode);
        Assert.Equal(new long[] { 1, 3, height, width }, ours.shape);
        Assert.Equal(device.type, ours.device.type);

        var flag = mode switch
        {
            Interpolation.Nearest => InterpolationFlags.Nearest,
            Interpolation.Bilinear => InterpolationFlags.Linear,
            _ => InterpolationFlags.Area,
        };
        using var expected = new Mat();
        Cv2.Resize(bgr, expected, new OpenCvSharp.Size(width, height), 0, 0, flag);
        var (max, _) = Diff(ours, expected);
        if (mode == Interpolation.Nearest) Assert.Equal(0, max, 6);
        else Assert.True(max <= OneLevel + 1e-6, $"{mode} to {width}x{height}: max abs diff {max * 255:F3}/255 exceeds 1/255");
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices)), Trait("Category", "Reference")]
    public void Flip_is_exactly_cv_flip(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var bgr = TestImages.Read("baboon.jpg");
        using var scope = NewDisposeScope();
        var image = TensorMat.ToTensor(bgr, ChannelOrder.Rgb, device);
        foreach (var (ours, code) in new[]
        {
            (FlipDirection.Horizontal, OpenCvSharp.FlipMode.Y),
            (FlipDirection.Vertical, OpenCvSharp.FlipMode.X),
            (FlipDirection.Both, OpenCvSharp.FlipMode.XY),
        })
        {
            using var expected = new Mat();
            Cv2.Flip(bgr, expected, code);
            using var got = TensorMat.ToMat(Geo.Flip(image, ours));
            Assert.Equal(0, TestImages.MaxAbsDiff(expected, got));
        }
    }

    public static TheoryData<string, double, Interpolation, Border> RotateCases()
    {
        var data = new TheoryData<string, double, Interpolation, Border>();
        foreach (var device in new[] { "cpu", "cuda" })
            foreach (var angle in new[] { 30.0, -17.5, 90.0 })
                foreach (var mode in new[] { Interpolation.Nearest, Interpolation.Bilinear })
                    foreach (var border in new[] { Border.Constant, Border.Replicate })
                        data.Add(device, angle, mode, border);
        return data;
    }

    [SkippableTheory, MemberData(nameof(RotateCases)), Trait("Category", "Reference")]
    public void Rotate_matches_warpAffine_with_getRotationMatrix2D(string deviceName, double angle, Interpolation mode, Border border)
    {
        var device = TestDevices.Get(deviceName);
        using var bgr = TestImages.Read("fruits.jpg");
        using var scope = NewDisposeScope();
        var image = TensorMat.ToTensor(bgr, ChannelOrder.Rgb, device);
        var center = new Point2f(200.5f, 260f);
        using var m = Cv2.GetRotationMatrix2D(center, angle, 0.9);
        using var expected = new Mat();
        Cv2.WarpAffine(bgr, expected, m, bgr.Size(), mode == Interpolation.Nearest ? InterpolationFlags.Nearest : InterpolationFlags.Linear,
            border == Border.Constant ? BorderTypes.Constant : BorderTypes.Replicate);

        // Our matrix equals OpenCV's entry for entry.
        var ourMatrix = Geo.RotationMatrix(center.X, center.Y, angle, 0.9);
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 3; j++)
                Assert.Equal(m.At<double>(i, j), ourMatrix[i, j], 9);

        var ours = Geo.Rotate(image, angle, (center.X, center.Y), 0.9, mode, border);
        AssertWarpMatches(ours, expected, mode);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Rotating_by_180_degrees_about_the_default_centre_is_a_flip(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var image = TestImages.Tensor("baboon.jpg", device);
        var flipped = Geo.Flip(image, FlipDirection.Both);
        Assert.Equal(0, Geo.Rotate(image, 180, interpolation: Interpolation.Nearest).sub(flipped).abs().max().item<float>());
        Assert.True(Geo.Rotate(image, 180).sub(flipped).abs().max().item<float>() < 1e-3f);
    }

    /// A shear with translation to a different output size, given source-to-destination and (with inverseMap)
    /// destination-to-source, as OpenCV's WARP_INVERSE_MAP.
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices)), Trait("Category", "Reference")]
    public void WarpAffine_matches_OpenCV_both_ways_round(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var bgr = TestImages.Read("building.jpg");
        using var scope = NewDisposeScope();
        var image = TensorMat.ToTensor(bgr, ChannelOrder.Rgb, device);
        var matrix = new[,] { { 0.8, 0.25, 30.0 }, { -0.1, 0.95, 12.5 } };
        using var m = Mat.FromArray(matrix);
        foreach (var inverse in new[] { false, true })
            foreach (var mode in new[] { Interpolation.Nearest, Interpolation.Bilinear })
            {
                using var expected = new Mat();
                var flags = (mode == Interpolation.Nearest ? InterpolationFlags.Nearest : InterpolationFlags.Linear)
                            | (inverse ? InterpolationFlags.WarpInverseMap : 0);
                Cv2.WarpAffine(bgr, expected, m, new OpenCvSharp.Size(400, 300), flags);
                var ours = Geo.WarpAffine(image, matrix, 300, 400, mode, inverseMap: inverse);
                Assert.Equal(new long[] { 1, 3, 300, 400 }, ours.shape);
                AssertWarpMatches(ours, expected, mode);
            }
    }

    /// graf1.png through the ground-truth homography H1to3p of OpenCV's sample data (a real viewpoint change).
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices)), Trait("Category", "Reference")]
    public void WarpPerspective_matches_OpenCV_on_the_graffiti_homography(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var bgr = TestImages.Read("graf1.png");
        using var scope = NewDisposeScope();
        var image = TensorMat.ToTensor(bgr, ChannelOrder.Rgb, device);
        var h = HomographyTests.GroundTruthH1to3();
        using var hm = Mat.FromArray(h);
        foreach (var mode in new[] { Interpolation.Nearest, Interpolation.Bilinear })
            foreach (var border in new[] { Border.Constant, Border.Replicate })
            {
                using var expected = new Mat();
                Cv2.WarpPerspective(bgr, expected, hm, bgr.Size(), mode == Interpolation.Nearest ? InterpolationFlags.Nearest : InterpolationFlags.Linear,
                    border == Border.Constant ? BorderTypes.Constant : BorderTypes.Replicate);
                var ours = Geo.WarpPerspective(image, h, bgr.Rows, bgr.Cols, mode, border);
                AssertWarpMatches(ours, expected, mode, perspective: true);
            }
    }

    /// One matrix per image of a batch gives what warping each image alone gives; a (3,3) float32 tensor matrix
    /// equals the double[,] overload.
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Warps_take_one_matrix_per_image_of_a_batch(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var a = Geo.Resize(TestImages.Tensor("fruits.jpg", device), 120, 128, Interpolation.Area);
        var b = Geo.Resize(TestImages.Tensor("baboon.jpg", device), 120, 128, Interpolation.Area);
        var batch = cat([a, b], 0);
        var h1 = new[,] { { 1.0, 0.1, 3 }, { 0, 0.9, 5 }, { 1e-4, 0, 1 } };
        var h2 = new[,] { { 0.8, 0, 10 }, { 0.2, 1.1, -4 }, { 0, 2e-4, 1 } };
        var both = tensor(h1.Cast<double>().Concat(h2.Cast<double>()).ToArray(), [2, 3, 3], ScalarType.Float64, device);
        var warped = Geo.WarpPerspective(batch, both, 100, 110);
        Assert.True(warped[0].unsqueeze(0).allclose(Geo.WarpPerspective(a, h1, 100, 110), 0, 1e-5));
        Assert.True(warped[1].unsqueeze(0).allclose(Geo.WarpPerspective(b, h2, 100, 110), 0, 1e-5));

        var single = tensor(h1.Cast<double>().ToArray(), [3, 3], ScalarType.Float32, device);
        Assert.True(Geo.WarpPerspective(batch, single, 100, 110)[1].unsqueeze(0).allclose(Geo.WarpPerspective(b, h1, 100, 110), 0, 1e-4));
        var affine = tensor(new[] { 0.9, 0.1, 4, -0.1, 0.9, 6, 1.1, 0, -3, 0, 1.1, -2 }, [2, 2, 3], ScalarType.Float64, device);
        var affineWarped = Geo.WarpAffine(batch, affine, 90, 100);
        Assert.True(affineWarped[1].unsqueeze(0).allclose(Geo.WarpAffine(b, new[,] { { 1.1, 0, -3 }, { 0, 1.1, -2 } }, 90, 100), 0, 1e-5));
    }

    public static TheoryData<string, string> PyramidCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var device in new[] { "cpu", "cuda" })
            foreach (var crop in new[] { "even", "odd", "tiny" })
                data.Add(device, crop);
        return data;
    }

    [SkippableTheory, MemberData(nameof(PyramidCases)), Trait("Category", "Reference")]
    public void PyrDown_and_PyrUp_match_OpenCV(string deviceName, string crop)
    {
        var device = TestDevices.Get(deviceName);
        using var full = TestImages.Read("fruits.jpg");
        var rect = crop switch
        {
            "even" => new Rect(0, 0, 512, 480),
            "odd" => new Rect(3, 5, 401, 333),
            _ => new Rect(100, 100, 5, 3),
        };
        using var bgr = full[rect].Clone();
        using var scope = NewDisposeScope();
        var image = TensorMat.ToTensor(bgr, ChannelOrder.Rgb, device);

        using var down = new Mat();
        Cv2.PyrDown(bgr, down);
        var ourDown = Geo.PyrDown(image);
        Assert.Equal(new long[] { 1, 3, down.Rows, down.Cols }, ourDown.shape);
        var (maxDown, _) = Diff(ourDown, down);
        Assert.True(maxDown <= OneLevel + 1e-6, $"PyrDown {crop}: max abs diff {maxDown * 255:F3}/255");

        using var up = new Mat();
        Cv2.PyrUp(bgr, up);
        var ourUp = Geo.PyrUp(image);
        Assert.Equal(new long[] { 1, 3, up.Rows, up.Cols }, ourUp.shape);
        var (maxUp, _) = Diff(ourUp, up);
        Assert.True(maxUp <= OneLevel + 1e-6, $"PyrUp {crop}: max abs diff {maxUp * 255:F3}/255");
    }

    /// Enlarging by an integer factor with Nearest copies each pixel into a block; Area then averages each block back
    /// to the pixel it came from. Any size, any factor.
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Nearest_enlarging_then_area_shrinking_is_the_identity(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        Gen.Select(Gen.Int[1, 40], Gen.Int[1, 40], Gen.Int[1, 4], Gen.Int[1, 4]).Sample((h, w, fy, fx) =>
        {
            using var scope = NewDisposeScope();
            var image = rand(new long[] { 2, 3, h, w }, device: device);
            var big = Geo.Resize(image, h * fy, w * fx, Interpolation.Nearest);
            var back = Geo.Resize(big, h, w, Interpolation.Area);
            Assert.True(back.allclose(image, 0, 1e-5), $"{h}x{w} by {fy}x{fx}");
        }, iter: 50, threads: 1);
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_a_message_naming_them()
    {
        using var scope = NewDisposeScope();
        var image = rand(1, 3, 20, 30);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Geo.Resize(image, 0, 10));
        Assert.Equal("height", e.ParamName);
        var rank = Assert.Throws<ArgumentException>(() => Geo.Resize(rand(3, 20, 30), 10, 10));
        Assert.Contains("(B,C,H,W)", rank.Message);

        var shape = Assert.Throws<ArgumentException>(() => Geo.WarpAffine(image, eye(3, dtype: ScalarType.Float64), 10, 10));
        Assert.Contains("(2,3)", shape.Message);
        var size = Assert.Throws<ArgumentException>(() => Geo.WarpPerspective(image, new double[2, 3], 10, 10));
        Assert.Contains("3x3", size.Message);
        var singular = Assert.Throws<ArgumentException>(() => Geo.WarpPerspective(image, new double[3, 3], 10, 10));
        Assert.Contains("singular", singular.Message);
        var singularAffine = Assert.Throws<ArgumentException>(() => Geo.WarpAffine(image, new double[2, 3], 10, 10));
        Assert.Contains("singular", singularAffine.Message);
        var area = Assert.Throws<ArgumentOutOfRangeException>(() => Geo.WarpAffine(image, new[,] { { 1.0, 0, 0 }, { 0, 1, 0 } }, 10, 10, Interpolation.Area));
        Assert.Equal("interpolation", area.ParamName);
        var border = Assert.Throws<ArgumentOutOfRangeException>(() => Geo.Rotate(image, 10, border: Border.Reflect101));
        Assert.Equal("border", border.ParamName);
        var batch = Assert.Throws<ArgumentException>(() => Geo.WarpPerspective(image, eye(3).expand(3, 3, 3), 10, 10));
        Assert.Contains("one per image", batch.Message);
        var nan = Assert.Throws<ArgumentException>(() => Geo.WarpAffine(image, new[,] { { double.NaN, 0, 0 }, { 0, 1, 0 } }, 10, 10));
        Assert.Contains("finite", nan.Message);
    }

    /// Max and mean abs difference between our float result and OpenCV's 8-bit one, on the CPU.
    internal static (double Max, double Mean) Diff(Tensor ours, Mat expected, int margin = 0)
    {
        using var scope = NewDisposeScope();
        var reference = TensorMat.ToTensor(expected, ChannelOrder.Rgb);
        var diff = ours.cpu().sub(reference).abs();
        if (margin > 0)
            diff = diff.narrow(2, margin, diff.shape[2] - 2 * margin).narrow(3, margin, diff.shape[3] - 2 * margin);
        return (diff.max().item<float>(), diff.mean().item<float>());
    }

    /// Nearest: every pixel identical (affine), or all but 1 in 10,000 (perspective: OpenCV divides by W in its own
    /// order of operations, so a coordinate within 1e-12 of .5 may round the other way). Bilinear: mean abs diff at
    /// most 0.5/255 and max at most 4/255.
    private static void AssertWarpMatches(Tensor ours, Mat expected, Interpolation mode, bool perspective = false)
    {
        var (max, mean) = Diff(ours, expected);
        if (mode == Interpolation.Nearest && perspective)
        {
            using var scope = NewDisposeScope();
            var differ = ours.cpu().sub(TensorMat.ToTensor(expected, ChannelOrder.Rgb)).abs().gt(1e-6).any(1).to(ScalarType.Float32).mean().item<float>();
            Assert.True(differ <= 1e-4, $"nearest perspective warp: {differ:P4} of the pixels differ from OpenCV's");
        }
        else if (mode == Interpolation.Nearest)
            Assert.True(max < 1e-6, $"nearest warp differs from OpenCV by up to {max * 255:F2}/255");
        else
        {
            Assert.True(mean <= 0.5 / 255, $"bilinear warp: mean abs diff {mean * 255:F3}/255 exceeds 0.5/255");
            Assert.True(max <= 4 / 255.0, $"bilinear warp: max abs diff {max * 255:F3}/255 exceeds 4/255");
        }
    }
}
