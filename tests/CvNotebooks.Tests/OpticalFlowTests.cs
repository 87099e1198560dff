using System.Diagnostics;
using CvNotebooks.Interop;
using CvNotebooks.Motion;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

public class OpticalFlowTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, string> DevicesAndPairs => new()
    {
        { "cpu", "basketball1.png", "basketball2.png" },
        { "cpu", "rubberwhale1.png", "rubberwhale2.png" },
        { "cuda", "basketball1.png", "basketball2.png" },
        { "cuda", "rubberwhale1.png", "rubberwhale2.png" },
    };

    /// Same arguments as OpenCV's defaults: 21x21 window, maxLevel 3, 30 iterations or a step under 0.01 px,
    /// minEigThreshold 1e-4; 200 corners from goodFeaturesToTrack (quality 0.01, 10 px apart).
    /// Measured on this machine (CPU): all 200 points have the same status as OpenCV on both pairs; over points both
    /// track, the median endpoint difference is 0.0001 px and the largest 0.011 px (basketball, motions up to 27 px).
    /// Asserted with margin: status agreement >= 95%, median difference <= 0.05 px, 95th percentile <= 0.5 px.
    [Trait("Category", "Reference")]
    [SkippableTheory, MemberData(nameof(DevicesAndPairs))]
    public void LucasKanade_tracks_like_OpenCV_calcOpticalFlowPyrLK(string deviceName, string first, string second)
    {
        var device = TestDevices.Get(deviceName);
        using var m1 = TestImages.Read(first, ImreadModes.Grayscale);
        using var m2 = TestImages.Read(second, ImreadModes.Grayscale);
        var corners = Cv2.GoodFeaturesToTrack(m1, 200, 0.01, 10, null!, 3, false, 0.04);
        var criteria = new TermCriteria(CriteriaTypes.Count | CriteriaTypes.Eps, 30, 0.01);
        var cvNext = new Point2f[corners.Length];
        Cv2.CalcOpticalFlowPyrLK(m1, m2, corners, ref cvNext, out var cvStatus, out var cvError, new OpenCvSharp.Size(21, 21), 3, criteria);

        using var scope = NewDisposeScope();
        var prev = TensorMat.ToTensor(m1, device: device);
        var next = TensorMat.ToTensor(m2, device: device);
        var points = tensor(corners.SelectMany(p => new[] { p.X, p.Y }).ToArray(), [corners.Length, 2], device: device);
        var (tracked, status, error) = OpticalFlow.LucasKanade(prev, next, points);
        Assert.Equal(device.type, tracked.device.type);
        Assert.Equal(new long[] { corners.Length, 2 }, tracked.shape);
        Assert.Equal(ScalarType.Bool, status.dtype);

        var xy = tracked.cpu().data<float>().ToArray();
        var ok = status.cpu().data<bool>().ToArray();
        var err = error.cpu().data<float>().ToArray();
        var agree = Enumerable.Range(0, corners.Length).Count(i => ok[i] == (cvStatus[i] == 1));
        var both = Enumerable.Range(0, corners.Length).Where(i => ok[i] && cvStatus[i] == 1).ToArray();
        var distances = both.Select(i => Math.Sqrt(Sq(xy[2 * i] - cvNext[i].X) + Sq(xy[2 * i + 1] - cvNext[i].Y))).OrderBy(d => d).ToArray();
        var errorGap = both.Select(i => (double)Math.Abs(err[i] * 255 - cvError[i])).OrderBy(d => d).ToArray();
        var motion = both.Select(i => Math.Sqrt(Sq(cvNext[i].X - corners[i].X) + Sq(cvNext[i].Y - corners[i].Y))).Max();
        output.WriteLine($"{first}: {corners.Length} points, status agrees on {agree}, both track {both.Length}; endpoint difference " +
            $"median {Percentile(distances, 0.5):F4} px, p95 {Percentile(distances, 0.95):F4} px, max {distances[^1]:F4} px " +
            $"(largest motion {motion:F1} px); |err*255 - OpenCV err| median {Percentile(errorGap, 0.5):F3}");
        Assert.True(agree >= 0.95 * corners.Length, $"status agrees on only {agree} of {corners.Length}");
        Assert.True(Percentile(distances, 0.5) <= 0.05, $"median endpoint difference {Percentile(distances, 0.5)} px");
        Assert.True(Percentile(distances, 0.95) <= 0.5, $"95th percentile endpoint difference {Percentile(distances, 0.95)} px");
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void LucasKanade_finds_a_known_shift_and_loses_flat_or_outside_points(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var gray = TestImages.Read("fruits.jpg", ImreadModes.Grayscale);
        using var shifted = Shift(gray, 3.25, -1.5);
        using var scope = NewDisposeScope();
        var prev = TensorMat.ToTensor(gray, device: device);
        var next = TensorMat.ToTensor(shifted, device: device);
        var corners = Cv2.GoodFeaturesToTrack(gray, 100, 0.01, 10, null!, 3, false, 0.04)
            .Where(p => p.X > 20 && p.Y > 20 && p.X < gray.Width - 20 && p.Y < gray.Height - 20).ToArray();
        var points = tensor(corners.SelectMany(p => new[] { p.X, p.Y }).ToArray(), [corners.Length, 2], device: device);
        var (tracked, status, _) = OpticalFlow.LucasKanade(prev, next, points);
        var moved = (tracked - points).cpu();
        var errors = Enumerable.Range(0, corners.Length)
            .Select(i => Math.Sqrt(Sq(moved[i, 0].item<float>() - 3.25) + Sq(moved[i, 1].item<float>() + 1.5))).OrderBy(e => e).ToArray();
        output.WriteLine($"shift (3.25,-1.5) of fruits.jpg, {corners.Length} corners: error median {Percentile(errors, 0.5):F3} px, max {errors[^1]:F3} px");
        Assert.True(status.all().item<bool>());
        Assert.True(Percentile(errors, 0.5) <= 0.1, $"median error {Percentile(errors, 0.5)} px"); // bilinear warp blurs `next` a little

        // A frame against itself: nothing moves, patches are identical.
        var (same, sameStatus, sameError) = OpticalFlow.LucasKanade(prev, prev, points);
        Assert.True(same.allclose(points, rtol: 0, atol: 1e-3));
        Assert.True(sameStatus.all().item<bool>());
        Assert.True(sameError.max().item<float>() < 1e-5);

        // A point in a flat image has no texture to track; one far outside the image has no window.
        var flat = full(new long[] { 1, 1, 100, 100 }, 0.5f, device: device);
        var (_, flatStatus, _) = OpticalFlow.LucasKanade(flat, flat, tensor(new[] { 50f, 50f }, [1, 2], device: device));
        Assert.False(flatStatus[0].item<bool>());
        var (_, outside, _) = OpticalFlow.LucasKanade(prev, next, tensor(new[] { -500f, 40f }, [1, 2], device: device));
        Assert.False(outside[0].item<bool>());
        var (none, noneStatus, _) = OpticalFlow.LucasKanade(prev, next, empty(0, 2, device: device));
        Assert.Equal(new long[] { 0, 2 }, none.shape);
        Assert.Equal(new long[] { 0 }, noneStatus.shape);
    }

    /// building.jpg at half size (434x300) against itself moved by (0.6, -0.4) px (bilinear warp). Measured over the
    /// textured interior (16 px from the border, gradient above the median): mean endpoint error ~0.1 px with the
    /// default alpha 0.01, presmoothing sigma 1.5 and 200 iterations. Asserted: mean error < 0.25 px and mean flow
    /// within 0.15 px of the shift.
    [Trait("Category", "Reference")]
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void HornSchunck_recovers_a_synthetic_shift_in_the_textured_interior(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var full = TestImages.Read("building.jpg", ImreadModes.Grayscale);
        using var gray = new Mat();
        Cv2.Resize(full, gray, new OpenCvSharp.Size(), 0.5, 0.5, InterpolationFlags.Area);
        using var shifted = Shift(gray, 0.6, -0.4);
        using var scope = NewDisposeScope();
        var prev = TensorMat.ToTensor(gray, device: device);
        var flow = OpticalFlow.HornSchunck(prev, TensorMat.ToTensor(shifted, device: device));
        Assert.Equal(new long[] { 1, 2, gray.Height, gray.Width }, flow.shape);
        Assert.Equal(device.type, flow.device.type);

        var inner = flow[.., .., 16..^16, 16..^16];
        var gx = prev[.., .., 16..^16, 17..^15] - prev[.., .., 16..^16, 15..^17];
        var gy = prev[.., .., 17..^15, 16..^16] - prev[.., .., 15..^17, 16..^16];
        var gradient = (gx.square() + gy.square()).sqrt()[0, 0];
        var textured = gradient.gt(gradient.median());
        var truth = tensor(new[] { 0.6f, -0.4f }, device: device).reshape(1, 2, 1, 1);
        var epe = (inner - truth).square().sum(1).sqrt()[0].masked_select(textured);
        var meanError = epe.mean().item<float>();
        var u = inner[0, 0].masked_select(textured).mean().item<float>();
        var v = inner[0, 1].masked_select(textured).mean().item<float>();
        output.WriteLine($"shift (0.6,-0.4): textured interior mean EPE {meanError:F3} px, mean flow ({u:F3},{v:F3})");
        Assert.True(meanError < 0.25, $"mean endpoint error {meanError} px");
        Assert.InRange(u, 0.45, 0.75);
        Assert.InRange(v, -0.55, -0.25);
    }

    /// RubberWhale (Middlebury): Horn-Schunck's direction against OpenCV's Farneback (pyrScale 0.5, 3 levels,
    /// window 15, 3 iterations, polyN 5, sigma 1.2) where Farneback sees more than 0.5 px of motion. Measured: median
    /// angle between the two 6-8 degrees, ~90% of pixels within 30 degrees. Asserted (loose, two different methods):
    /// median angle <= 15 degrees and >= 75% within 30 degrees.
    [Trait("Category", "Reference")]
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void HornSchunck_points_the_same_way_as_OpenCV_Farneback_on_RubberWhale(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var g1 = TestImages.Read("rubberwhale1.png", ImreadModes.Grayscale);
        using var g2 = TestImages.Read("rubberwhale2.png", ImreadModes.Grayscale);
        using var farneback = new Mat();
        Cv2.CalcOpticalFlowFarneback(g1, g2, farneback, 0.5, 3, 15, 3, 5, 1.2, OpticalFlowFlags.None);
        using var scope = NewDisposeScope();
        var reference = TensorMat.ToTensor(farneback, device: device); // CV_32FC2 -> (1,2,H,W), (u, v)
        var flow = OpticalFlow.HornSchunck(TensorMat.ToTensor(g1, device: device), TensorMat.ToTensor(g2, device: device), iterations: 100);

        var refSpeed = reference.square().sum(1).sqrt();
        var speed = flow.square().sum(1).sqrt();
        var moving = refSpeed.gt(0.5);
        var cos = ((flow * reference).sum(1) / (speed * refSpeed + 1e-9)).clamp(-1, 1);
        var angles = (cos.acos() * (180 / Math.PI)).masked_select(moving).cpu().data<float>().ToArray();
        Array.Sort(angles);
        var median = angles[angles.Length / 2];
        var within30 = angles.Count(a => a <= 30) / (double)angles.Length;
        output.WriteLine($"RubberWhale ({deviceName}, 100 iterations): {angles.Length} moving pixels, median angle {median:F1} deg, {within30:P0} within 30 deg");
        Assert.True(median <= 15, $"median angle {median} degrees");
        Assert.True(within30 >= 0.75, $"only {within30:P0} within 30 degrees");
    }

    /// The colour picture against OpenCV's own HSV to RGB conversion (float HSV: hue in degrees, s and v in [0,1]).
    [Trait("Category", "Reference")]
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void FlowToColor_is_the_hsv_colour_wheel(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        // Right, down, left, up at full speed, and no motion.
        var flow = tensor(new float[] { 2, 0, -2, 0, 0, 0, 2, 0, -2, 0 }, [1, 2, 1, 5], device: device);
        var rgb = OpticalFlow.FlowToColor(flow).cpu();
        Assert.Equal(new long[] { 1, 3, 1, 5 }, rgb.shape);
        float[][] expected = [[1, 0, 0], [0.5f, 1, 0], [0, 1, 1], [0.5f, 0, 1], [1, 1, 1]];
        for (var i = 0; i < 5; i++)
            for (var c = 0; c < 3; c++)
                Assert.Equal(expected[i][c], rgb[0, c, 0, i].item<float>(), 5);

        // A random field against OpenCV's HSV2RGB.
        var random = (randn(new long[] { 1, 2, 32, 48 }, generator: new Generator(5)) * 3).to(device);
        var colours = OpticalFlow.FlowToColor(random, maxMagnitude: 6).cpu();
        var uv = random.cpu();
        using var hsv = new Mat(32, 48, MatType.CV_32FC3);
        for (var y = 0; y < 32; y++)
            for (var x = 0; x < 48; x++)
            {
                double u = uv[0, 0, y, x].item<float>(), v = uv[0, 1, y, x].item<float>();
                var hue = (Math.Atan2(v, u) * 180 / Math.PI + 360) % 360;
                hsv.Set(y, x, new Vec3f((float)hue, (float)Math.Min(1, Math.Sqrt(u * u + v * v) / 6), 1));
            }
        using var cvRgb = new Mat();
        Cv2.CvtColor(hsv, cvRgb, ColorConversionCodes.HSV2RGB);
        using var ours = TensorMat.ToFloatMat(colours);
        var diff = TestImages.MaxAbsDiff(cvRgb, ours);
        Assert.True(diff < 1e-4, $"max difference from OpenCV's HSV2RGB {diff}");
    }

    [Fact]
    public void Bad_input_is_rejected_with_a_clear_reason()
    {
        using var scope = NewDisposeScope();
        var gray = rand(1, 1, 40, 40);
        var pts = tensor(new[] { 10f, 10f }, [1, 2]);
        var e = Assert.Throws<ArgumentException>(() => OpticalFlow.LucasKanade(rand(1, 3, 40, 40), gray, pts));
        Assert.Equal("prev", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => OpticalFlow.LucasKanade(gray, rand(1, 1, 40, 41), pts));
        Assert.Contains("same size", e.Message);
        e = Assert.Throws<ArgumentException>(() => OpticalFlow.LucasKanade(gray, gray, zeros(3, 3)));
        Assert.Equal("points", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => OpticalFlow.LucasKanade(gray, gray, pts, windowSize: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpticalFlow.LucasKanade(gray, gray, pts, maxLevel: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpticalFlow.HornSchunck(gray, gray, alpha: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpticalFlow.HornSchunck(gray, gray, iterations: 0));
        e = Assert.Throws<ArgumentException>(() => OpticalFlow.HornSchunck(gray, rand(1, 1, 20, 20)));
        Assert.Equal("next", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => OpticalFlow.FlowToColor(rand(1, 3, 4, 4)));
        Assert.Contains("(B,2,H,W)", e.Message);
    }

    private static Mat Shift(Mat image, double dx, double dy)
    {
        using var m = new Mat(2, 3, MatType.CV_64FC1);
        m.Set(0, 0, 1.0); m.Set(0, 1, 0.0); m.Set(0, 2, dx);
        m.Set(1, 0, 0.0); m.Set(1, 1, 1.0); m.Set(1, 2, dy);
        var result = new Mat();
        Cv2.WarpAffine(image, result, m, image.Size(), InterpolationFlags.Linear, BorderTypes.Reflect101);
        return result;
    }

    private static double Sq(double x) => x * x;

    private static double Percentile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];

}
