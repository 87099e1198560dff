using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

public class InteropTests
{
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Mat_to_tensor_and_back_is_exact_and_swaps_bgr_to_rgb(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var bgr = TestImages.Read("fruits.jpg");
        using var scope = NewDisposeScope();
        var t = TensorMat.ToTensor(bgr, ChannelOrder.Rgb, device);
        Assert.Equal(new long[] { 1, 3, bgr.Rows, bgr.Cols }, t.shape);
        Assert.Equal(ScalarType.Float32, t.dtype);
        Assert.Equal(device.type, t.device.type);

        // Pixel (10,20): OpenCV's B,G,R must be the tensor's channels 2,1,0.
        var px = bgr.At<Vec3b>(10, 20);
        Assert.Equal(px.Item2 / 255f, t[0, 0, 10, 20].item<float>(), 6);
        Assert.Equal(px.Item1 / 255f, t[0, 1, 10, 20].item<float>(), 6);
        Assert.Equal(px.Item0 / 255f, t[0, 2, 10, 20].item<float>(), 6);

        using var back = TensorMat.ToMat(t, ChannelOrder.Rgb);
        Assert.Equal(0, TestImages.MaxAbsDiff(bgr, back));
    }

    [Fact]
    public void Gray_and_float_mats_convert()
    {
        using var gray = TestImages.Read("sudoku.png", ImreadModes.Grayscale);
        using var scope = NewDisposeScope();
        var t = TensorMat.ToTensor(gray);
        Assert.Equal(new long[] { 1, 1, gray.Rows, gray.Cols }, t.shape);
        using var f = new Mat();
        gray.ConvertTo(f, MatType.CV_32F, 1 / 255.0);
        var tf = TensorMat.ToTensor(f);
        Assert.True(t.allclose(tf, rtol: 0, atol: 1e-6));
        using var back = TensorMat.ToFloatMat(tf);
        Assert.True(TestImages.MaxAbsDiff(f, back) < 1e-7);
    }

    [Fact]
    public void Empty_mat_and_wrong_depth_are_rejected_with_a_reason()
    {
        using var empty = new Mat();
        var e = Assert.Throws<ArgumentException>(() => TensorMat.ToTensor(empty));
        Assert.Contains("empty", e.Message);
        using var shorts = new Mat(4, 4, MatType.CV_16UC1);
        e = Assert.Throws<ArgumentException>(() => TensorMat.ToTensor(shorts));
        Assert.Contains("CV_8U", e.Message);
    }

    [Fact]
    public void Guard_names_rank_dtype_and_range_problems()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => Guard.Images(zeros(3, 4, 4)));
        Assert.Contains("(B,C,H,W)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Guard.Images(zeros(new long[] { 1, 3, 4, 4 }, ScalarType.Byte)));
        Assert.Contains("float32", e.Message);
        e = Assert.Throws<ArgumentException>(() => Guard.Images(full(new long[] { 1, 1, 2, 2 }, 3f), checkRange: true));
        Assert.Contains("[0,1]", e.Message);
        Guard.Images(rand(1, 3, 4, 4), checkRange: true);
    }
}
