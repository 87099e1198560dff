using CvNotebooks.Filters;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

/// Thresholds against OpenCV's threshold and adaptiveThreshold on real gray images (sudoku.png is OpenCV's own
/// adaptive-threshold example: unevenly lit paper).
public class ThresholdTests
{
    private static double Agreement(Mat ours, Mat reference)
    {
        using var differ = new Mat();
        Cv2.Compare(ours, reference, differ, CmpTypes.NE);
        return 1 - Cv2.CountNonZero(differ) / (double)(reference.Rows * reference.Cols);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Binary_matches_OpenCV_threshold_on_float_images(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var image = TestImages.Tensor("fruits.jpg", device);
        using var src = TensorMat.ToFloatMat(image);
        foreach (var (t, inverse) in new[] { (0.5, false), (0.3, true), (100 / 255.0, false) })
        {
            var ours = Thresholds.Binary(image, t, inverse);
            Assert.Equal(device.type, ours.device.type);
            Assert.Equal(image.shape, ours.shape);
            using var expected = new Mat();
            Cv2.Threshold(src, expected, t, 1, inverse ? ThresholdTypes.BinaryInv : ThresholdTypes.Binary);
            // Same comparison on the same floats: exact.
            Assert.Equal(0f, (ours.cpu() - TensorMat.ToTensor(expected, ChannelOrder.Bgr)).abs().max().item<float>());
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Otsu_threshold_and_mask_match_OpenCV(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var name in new[] { "sudoku.png", "fruits.jpg", "baboon.jpg", "building.jpg" })
        {
            using var scope = NewDisposeScope();
            using var gray = TestImages.Read(name, ImreadModes.Grayscale);
            using var expected = new Mat();
            var cvThreshold = Cv2.Threshold(gray, expected, 0, 255, ThresholdTypes.Binary | ThresholdTypes.Otsu);
            var image = TensorMat.ToTensor(gray, ChannelOrder.Rgb, device);
            var (thresholds, mask) = Thresholds.Otsu(image);
            Assert.Equal(new long[] { 1 }, thresholds.shape);
            Assert.Equal(device.type, mask.device.type);
            // Threshold within 1/255 of OpenCV's (it is the same level unless two levels tie in float rounding).
            var ours = thresholds[0].item<float>();
            Assert.True(Math.Abs(ours * 255 - cvThreshold) <= 1.0001, $"{name}: Otsu threshold {ours * 255:F2}/255, OpenCV {cvThreshold}");
            using var ours8 = TensorMat.ToMat(mask);
            Assert.True(Agreement(ours8, expected) >= 0.999, $"{name}: mask agreement {Agreement(ours8, expected):P3}");
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Otsu_thresholds_each_image_of_a_batch_on_its_own(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        using var a8 = TestImages.Read("sudoku.png", ImreadModes.Grayscale);
        using var b8 = TestImages.Read("baboon.jpg", ImreadModes.Grayscale);
        using var b8Small = new Mat();
        Cv2.Resize(b8, b8Small, a8.Size());
        var batch = cat([TensorMat.ToTensor(a8, device: device), TensorMat.ToTensor(b8Small, device: device)], 0);
        var (thresholds, mask) = Thresholds.Otsu(batch, inverse: true);
        Assert.Equal(new long[] { 2 }, thresholds.shape);
        using var scratch = new Mat();
        Assert.Equal(Cv2.Threshold(a8, scratch, 0, 255, ThresholdTypes.Otsu), thresholds[0].item<float>() * 255, 0.01);
        Assert.Equal(Cv2.Threshold(b8Small, scratch, 0, 255, ThresholdTypes.Otsu), thresholds[1].item<float>() * 255, 0.01);
        Assert.Equal(0f, (mask[1] - Thresholds.Otsu(batch.narrow(0, 1, 1), inverse: true).Mask[0]).abs().max().item<float>());
        // A constant image has one class only: OpenCV returns 0 and so do we.
        var (flat, _) = Thresholds.Otsu(full(new long[] { 1, 1, 8, 8 }, 0.5f, device: device));
        Assert.Equal(0f, flat[0].item<float>());
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    [Trait("Category", "Reference")]
    public void Adaptive_thresholds_agree_with_OpenCV_on_sudoku(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var gray = TestImages.Read("sudoku.png", ImreadModes.Grayscale);
        foreach (var (block, c, inverse) in new[] { (11, 2, false), (11, 2, true), (25, 5, false), (5, 0, false) })
        {
            using var scope = NewDisposeScope();
            var image = TensorMat.ToTensor(gray, ChannelOrder.Rgb, device);
            var type = inverse ? ThresholdTypes.BinaryInv : ThresholdTypes.Binary;
            using var expectedMean = new Mat();
            using var expectedGauss = new Mat();
            Cv2.AdaptiveThreshold(gray, expectedMean, 255, AdaptiveThresholdTypes.MeanC, type, block, c);
            Cv2.AdaptiveThreshold(gray, expectedGauss, 255, AdaptiveThresholdTypes.GaussianC, type, block, c);
            var mean = Thresholds.AdaptiveMean(image, block, c / 255.0, inverse);
            var gauss = Thresholds.AdaptiveGaussian(image, block, c / 255.0, inverse);
            Assert.Equal(device.type, mean.device.type);
            using var mean8 = TensorMat.ToMat(mean);
            using var gauss8 = TensorMat.ToMat(gauss);
            // Both round the local mean to a grey level; OpenCV's 8-bit Gaussian uses fixed-point weights, so a few
            // pixels may sit on the other side of a rounding boundary: required agreement >= 99% of pixels.
            var what = $"block {block}, C {c}, inverse {inverse}";
            Assert.True(Agreement(mean8, expectedMean) >= 0.99, $"mean, {what}: {Agreement(mean8, expectedMean):P3}");
            Assert.True(Agreement(gauss8, expectedGauss) >= 0.99, $"gaussian, {what}: {Agreement(gauss8, expectedGauss):P3}");
        }
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_the_argument_named()
    {
        using var scope = NewDisposeScope();
        var gray = rand(1, 1, 16, 16);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Thresholds.AdaptiveMean(gray, 4, 0.01));
        Assert.Equal("blockSize", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Thresholds.AdaptiveGaussian(gray, 1, 0.01));
        Assert.Equal("blockSize", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Thresholds.AdaptiveMean(gray, 11, 2));
        Assert.Equal("c", e.ParamName);
        Assert.Contains("2/255", e.Message);
        var a = Assert.Throws<ArgumentException>(() => Thresholds.Otsu(rand(1, 3, 16, 16)));
        Assert.Contains("1 channel", a.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Thresholds.Binary(gray, double.NaN));
        Assert.Equal("threshold", e.ParamName);
        a = Assert.Throws<ArgumentException>(() => Thresholds.Binary(zeros(new long[] { 1, 1, 4, 4 }, ScalarType.Byte), 0.5));
        Assert.Contains("float32", a.Message);
    }
}
