using CvNotebooks.Color;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

/// Every conversion against OpenCV's float (CV_32FC3) cvtColor on real photographs: the 8-bit image divided by
/// 255 goes to both, and the float results are compared. Inverse conversions are fed OpenCV's own forward
/// result, so each direction is checked on its own.
public class ColorTests
{
    private static readonly string[] Images = ["fruits.jpg", "baboon.jpg"];

    /// The 8-bit sample as an RGB tensor (ours) and the very same floats as a BGR CV_32FC3 Mat (OpenCV's side).
    private static (Mat bgr, Tensor rgb) Load(string name, Device device)
    {
        var rgb = TestImages.Tensor(name, device);
        return (TensorMat.ToFloatMat(rgb.flip(1)), rgb);
    }

    /// A float Mat's channels as stored (no BGR swap) in a (1,C,H,W) tensor on the CPU.
    private static Tensor AsStored(Mat mat) => TensorMat.ToTensor(mat, ChannelOrder.Bgr);

    private static float MaxAbsDiff(Tensor a, Tensor b) => (a.cpu() - b.cpu()).abs().max().item<float>();

    /// Largest hue difference in degrees, going round the circle (359.9 and 0.1 are 0.2 apart).
    private static float MaxHueDiffDegrees(Tensor oursUnit, Tensor opencvDegrees)
    {
        var d = (oursUnit.cpu() * 360f - opencvDegrees.cpu()).abs();
        return minimum(d, 360f - d).max().item<float>();
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Rgb_bgr_swap_and_gray_match_OpenCV(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var name in Images)
        {
            using var scope = NewDisposeScope();
            var (bgrMat, rgb) = Load(name, device);
            using var bgr = bgrMat;
            var bgrTensor = ColorSpaces.RgbToBgr(rgb);
            Assert.Equal(device.type, bgrTensor.device.type);
            Assert.Equal(0f, MaxAbsDiff(bgrTensor, AsStored(bgr)));
            Assert.Equal(0f, MaxAbsDiff(ColorSpaces.BgrToRgb(bgrTensor), rgb));

            using var gray = new Mat();
            Cv2.CvtColor(bgr, gray, ColorConversionCodes.BGR2GRAY);
            var ours = ColorSpaces.RgbToGray(rgb);
            Assert.Equal(new long[] { 1, 1, bgr.Rows, bgr.Cols }, ours.shape);
            // Same weights in float; only the order of the three additions can differ.
            Assert.True(MaxAbsDiff(ours, AsStored(gray)) <= 1e-6f, $"{name}: RgbToGray");
            Assert.True(MaxAbsDiff(ColorSpaces.BgrToGray(bgrTensor), AsStored(gray)) <= 1e-6f, $"{name}: BgrToGray");
            Assert.Equal(0f, MaxAbsDiff(ColorSpaces.GrayToRgb(ours).narrow(1, 2, 1), ours));
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Hsv_matches_OpenCV_float_hsv_both_ways(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var name in Images)
        {
            using var scope = NewDisposeScope();
            var (bgrMat, rgb) = Load(name, device);
            using var bgr = bgrMat;
            using var hsv = new Mat();
            Cv2.CvtColor(bgr, hsv, ColorConversionCodes.BGR2HSV); // float: H in degrees [0,360), S, V in [0,1]
            var expected = AsStored(hsv);
            var ours = ColorSpaces.RgbToHsv(rgb);
            Assert.Equal(device.type, ours.device.type);
            // Tolerances: hue within 1e-3 degrees (round the circle), S and V within 1e-6 (same float formula).
            Assert.True(MaxHueDiffDegrees(ours.narrow(1, 0, 1), expected.narrow(1, 0, 1)) <= 1e-3f, $"{name}: H");
            Assert.True(MaxAbsDiff(ours.narrow(1, 1, 2), expected.narrow(1, 1, 2)) <= 1e-6f, $"{name}: S,V");
            Assert.True(ours.narrow(1, 0, 1).max().item<float>() < 1f, "H is returned in [0,1)");

            // Back: OpenCV's HSV (hue scaled to [0,1]) through both inverse conversions.
            using var back = new Mat();
            Cv2.CvtColor(hsv, back, ColorConversionCodes.HSV2BGR);
            var hsvUnit = expected.clone();
            hsvUnit.narrow(1, 0, 1).div_(360f);
            var oursBack = ColorSpaces.HsvToRgb(hsvUnit.to(device));
            Assert.True(MaxAbsDiff(oursBack, TensorMat.ToTensor(back, ChannelOrder.Rgb)) <= 1e-5f, $"{name}: HSV to RGB");
            Assert.True(MaxAbsDiff(ColorSpaces.HsvToRgb(ours), rgb) <= 1e-5f, $"{name}: round trip");
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Hls_matches_OpenCV_float_hls_both_ways(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var name in Images)
        {
            using var scope = NewDisposeScope();
            var (bgrMat, rgb) = Load(name, device);
            using var bgr = bgrMat;
            using var hls = new Mat();
            Cv2.CvtColor(bgr, hls, ColorConversionCodes.BGR2HLS); // float: H in degrees, L, S in [0,1]
            var expected = AsStored(hls);
            var ours = ColorSpaces.RgbToHls(rgb);
            // Tolerances: hue within 1e-3 degrees, L and S within 1e-5 (S divides by max + min, amplifying rounding).
            Assert.True(MaxHueDiffDegrees(ours.narrow(1, 0, 1), expected.narrow(1, 0, 1)) <= 1e-3f, $"{name}: H");
            Assert.True(MaxAbsDiff(ours.narrow(1, 1, 2), expected.narrow(1, 1, 2)) <= 1e-5f, $"{name}: L,S");

            using var back = new Mat();
            Cv2.CvtColor(hls, back, ColorConversionCodes.HLS2BGR);
            var hlsUnit = expected.clone();
            hlsUnit.narrow(1, 0, 1).div_(360f);
            var oursBack = ColorSpaces.HlsToRgb(hlsUnit.to(device));
            Assert.True(MaxAbsDiff(oursBack, TensorMat.ToTensor(back, ChannelOrder.Rgb)) <= 1e-5f, $"{name}: HLS to RGB");
            Assert.True(MaxAbsDiff(ColorSpaces.HlsToRgb(ours), rgb) <= 1e-5f, $"{name}: round trip");
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void YCrCb_matches_OpenCV_both_ways(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var name in Images)
        {
            using var scope = NewDisposeScope();
            var (bgrMat, rgb) = Load(name, device);
            using var bgr = bgrMat;
            using var ycrcb = new Mat();
            Cv2.CvtColor(bgr, ycrcb, ColorConversionCodes.BGR2YCrCb);
            var expected = AsStored(ycrcb);
            var ours = ColorSpaces.RgbToYCrCb(rgb);
            Assert.True(MaxAbsDiff(ours, expected) <= 1e-6f, $"{name}: RGB to YCrCb");

            using var back = new Mat();
            Cv2.CvtColor(ycrcb, back, ColorConversionCodes.YCrCb2BGR);
            var oursBack = ColorSpaces.YCrCbToRgb(expected.to(device));
            Assert.True(MaxAbsDiff(oursBack, TensorMat.ToTensor(back, ChannelOrder.Rgb)) <= 1e-5f, $"{name}: YCrCb to RGB");
            // OpenCV's rounded coefficients (0.713, 1.403, ...) are not exact inverses: the round trip is good to ~1e-3.
            Assert.True(MaxAbsDiff(ColorSpaces.YCrCbToRgb(ours), rgb) <= 2e-3f, $"{name}: round trip");
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Lab_matches_OpenCV_float_lab_both_ways(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var name in Images)
        {
            using var scope = NewDisposeScope();
            var (bgrMat, rgb) = Load(name, device);
            using var bgr = bgrMat;
            using var lab = new Mat();
            Cv2.CvtColor(bgr, lab, ColorConversionCodes.BGR2Lab); // float: L in [0,100], a, b about [-127,127]
            var expected = AsStored(lab);
            var ours = ColorSpaces.RgbToLab(rgb);
            // OpenCV's float sRGB->Lab is itself approximate: it interpolates trilinearly in a 33x33x33 table
            // (color_lab.cpp, enableRGB2LabInterpolation), off the exact formula by up to ~0.4. We evaluate the formula,
            // so the tolerance is max 0.6 and mean 0.15 Lab units (a just-noticeable colour difference is about 1 to 2.3).
            var diff = (ours.cpu() - expected).abs();
            Assert.True(diff.max().item<float>() <= 0.6f, $"{name}: RGB to Lab, max diff {diff.max().item<float>()}");
            Assert.True(diff.mean().item<float>() <= 0.15f, $"{name}: RGB to Lab, mean diff {diff.mean().item<float>()}");
            Assert.InRange(ours.narrow(1, 0, 1).min().item<float>(), 0f, 100f);
            Assert.InRange(ours.narrow(1, 0, 1).max().item<float>(), 0f, 100f);

            using var back = new Mat();
            Cv2.CvtColor(lab, back, ColorConversionCodes.Lab2BGR);
            var oursBack = ColorSpaces.LabToRgb(expected.to(device));
            Assert.True(MaxAbsDiff(oursBack, TensorMat.ToTensor(back, ChannelOrder.Rgb)) <= 1e-3f, $"{name}: Lab to RGB, max diff {MaxAbsDiff(oursBack, TensorMat.ToTensor(back, ChannelOrder.Rgb))}");
            Assert.True(MaxAbsDiff(ColorSpaces.LabToRgb(ours), rgb) <= 1e-3f, $"{name}: round trip");
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Lab_of_primaries_matches_the_CIE_formula(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        // Black, white, mid gray, red, green, blue as a 1x6 RGB image; published sRGB (D65) Lab values.
        var rgb = tensor(new float[] { 0, 1, 0.5f, 1, 0, 0, 0, 1, 0.5f, 0, 1, 0, 0, 1, 0.5f, 0, 0, 1 }, device: device).reshape(1, 3, 1, 6);
        var expected = tensor(new float[]
        {
            0, 100, 53.39f, 53.24f, 87.73f, 32.30f, // L
            0, 0, 0, 80.09f, -86.18f, 79.19f, // a
            0, 0, 0, 67.20f, 83.18f, -107.86f, // b
        }).reshape(1, 3, 1, 6);
        var lab = ColorSpaces.RgbToLab(rgb);
        Assert.True(MaxAbsDiff(lab, expected) <= 0.05f, $"max diff {MaxAbsDiff(lab, expected)}: {string.Join(", ", lab.cpu().data<float>().ToArray())}");
        Assert.True(MaxAbsDiff(ColorSpaces.LabToRgb(lab), rgb) <= 1e-4f);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Batches_convert_image_by_image(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var a = TestImages.Tensor("fruits.jpg", device);
        var b = a.flip(3); // a second, different image of the same size
        var batch = cat([a, b], 0);
        var hsv = ColorSpaces.RgbToHsv(batch);
        Assert.Equal(new long[] { 2, 3, a.shape[2], a.shape[3] }, hsv.shape);
        Assert.Equal(0f, MaxAbsDiff(hsv[1].unsqueeze(0), ColorSpaces.RgbToHsv(b)));
        Assert.Equal(0f, MaxAbsDiff(ColorSpaces.RgbToLab(batch)[0].unsqueeze(0), ColorSpaces.RgbToLab(a)));
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Hue_of_a_red_just_short_of_360_degrees_stays_below_one(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        // B a hair above G: the angle is -1e-5 degrees, which wraps to 360 - 1e-5 = 360.0 in float.
        var rgb = tensor(new float[] { 1f, 0.5f, 0.5f + 1e-7f }, device: device).reshape(1, 3, 1, 1);
        foreach (var h in new[] { ColorSpaces.RgbToHsv(rgb)[0, 0, 0, 0].item<float>(), ColorSpaces.RgbToHls(rgb)[0, 0, 0, 0].item<float>() })
            Assert.True(h >= 0f && h < 1f, $"H = {h}");
    }

    [Fact]
    public void Wrong_rank_dtype_or_channels_are_rejected_with_the_argument_named()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => ColorSpaces.RgbToHsv(rand(3, 8, 8)));
        Assert.Equal("images", e.ParamName);
        Assert.Contains("(B,C,H,W)", e.Message);
        e = Assert.Throws<ArgumentException>(() => ColorSpaces.RgbToGray(rand(1, 1, 8, 8)));
        Assert.Contains("3 channel", e.Message);
        e = Assert.Throws<ArgumentException>(() => ColorSpaces.RgbToLab(zeros(new long[] { 1, 3, 8, 8 }, ScalarType.Byte)));
        Assert.Contains("float32", e.Message);
        e = Assert.Throws<ArgumentException>(() => ColorSpaces.GrayToRgb(rand(1, 3, 8, 8)));
        Assert.Contains("1 channel", e.Message);
    }
}
