using System.Runtime.InteropServices;
using CvNotebooks.Interop;
using OpenCvSharp;
using SkiaSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

public class SkiaInteropTests
{
    [Theory]
    [InlineData(SKColorType.Bgra8888)]
    [InlineData(SKColorType.Rgba8888)]
    public void Mat_to_bitmap_and_back_is_exact_and_keeps_channel_order(SKColorType colorType)
    {
        using var bgr = TestImages.Read("fruits.jpg");
        using var bitmap = SkiaInterop.ToBitmap(bgr, colorType);
        Assert.Equal(colorType, bitmap.ColorType);
        Assert.Equal(SKAlphaType.Opaque, bitmap.AlphaType);
        Assert.Equal((bgr.Cols, bgr.Rows), (bitmap.Width, bitmap.Height));

        // SKBitmap.GetPixel reads through Skia's own colour handling: red is red whatever the memory order.
        var px = bgr.At<Vec3b>(10, 20);
        var sk = bitmap.GetPixel(20, 10);
        Assert.Equal((px.Item2, px.Item1, px.Item0, (byte)255), (sk.Red, sk.Green, sk.Blue, sk.Alpha));

        using var back = SkiaInterop.ToMat(bitmap);
        Assert.Equal(MatType.CV_8UC3, back.Type());
        Assert.Equal(0, TestImages.MaxAbsDiff(bgr, back));
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Tensor_to_bitmap_and_back_is_exact_for_float_and_byte(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var rgb = TestImages.Tensor("fruits.jpg", device);
        foreach (var colorType in new[] { SKColorType.Rgba8888, SKColorType.Bgra8888 })
        {
            using var bitmap = SkiaInterop.ToBitmap(rgb, colorType);
            var back = SkiaInterop.ToTensor(bitmap, device: device);
            Assert.Equal(rgb.shape, back.shape);
            Assert.Equal(device.type, back.device.type);
            Assert.True(back.allclose(rgb, rtol: 0, atol: 1e-6), $"float round trip through {colorType} differs");

            var bytes = SkiaInterop.ToTensor(bitmap, dtype: ScalarType.Byte, device: device);
            Assert.Equal(ScalarType.Byte, bytes.dtype);
            Assert.True(Same(bytes, rgb.mul(255).round().to(ScalarType.Byte)), $"byte tensor from {colorType} differs");

            // A Byte tensor goes back to a bitmap unchanged too.
            using var fromBytes = SkiaInterop.ToBitmap(bytes, colorType);
            Assert.True(Same(SkiaInterop.ToTensor(fromBytes, dtype: ScalarType.Byte, device: device), bytes));
        }
    }

    [Fact]
    public void Channel_order_is_explicit_on_both_sides()
    {
        using var bgr = TestImages.Read("fruits.jpg");
        using var scope = NewDisposeScope();
        var rgb = TensorMat.ToTensor(bgr, ChannelOrder.Rgb);
        using var bitmap = SkiaInterop.ToBitmap(rgb, SKColorType.Rgba8888, ChannelOrder.Rgb);
        // Asking for BGR order from the bitmap gives the tensor TensorMat makes in BGR order.
        var asBgr = SkiaInterop.ToTensor(bitmap, ChannelOrder.Bgr);
        Assert.True(asBgr.allclose(TensorMat.ToTensor(bgr, ChannelOrder.Bgr), rtol: 0, atol: 1e-6));
        // And a bitmap's memory is what its colour type says: Rgba8888 stores red first.
        var first = new byte[4];
        Marshal.Copy(bitmap.GetPixels(), first, 0, 4);
        var px = bgr.At<Vec3b>(0, 0);
        Assert.Equal((px.Item2, px.Item1, px.Item0, (byte)255), (first[0], first[1], first[2], first[3]));
    }

    [Fact]
    public void Gray_images_use_Gray8_and_one_channel()
    {
        using var gray = TestImages.Read("sudoku.png", ImreadModes.Grayscale);
        using var bitmap = SkiaInterop.ToBitmap(gray);
        Assert.Equal(SKColorType.Gray8, bitmap.ColorType);
        using var back = SkiaInterop.ToMat(bitmap);
        Assert.Equal(0, TestImages.MaxAbsDiff(gray, back));

        using var scope = NewDisposeScope();
        var t = SkiaInterop.ToTensor(bitmap);
        Assert.Equal(new long[] { 1, 1, gray.Rows, gray.Cols }, t.shape);
        Assert.True(t.allclose(TensorMat.ToTensor(gray), rtol: 0, atol: 1e-6));
        using var fromTensor = SkiaInterop.ToBitmap(t);
        Assert.Equal(SKColorType.Gray8, fromTensor.ColorType);
        using var again = SkiaInterop.ToMat(fromTensor);
        Assert.Equal(0, TestImages.MaxAbsDiff(gray, again));
    }

    [Fact]
    public void Alpha_survives_a_round_trip_when_kept()
    {
        using var scope = NewDisposeScope();
        var rgb = TestImages.Tensor("fruits.jpg", CPU);
        var alpha = linspace(0, 1, rgb.shape[3]).expand(1, 1, rgb.shape[2], rgb.shape[3]).mul(255).round().div(255);
        var rgba = cat([rgb, alpha], 1);
        using var bitmap = SkiaInterop.ToBitmap(rgba, SKColorType.Bgra8888);
        Assert.Equal(SKAlphaType.Unpremul, bitmap.AlphaType);
        var back = SkiaInterop.ToTensor(bitmap, keepAlpha: true);
        Assert.Equal(4, back.shape[1]);
        Assert.True(back.allclose(rgba, rtol: 0, atol: 1e-6));
        using var bgra = SkiaInterop.ToMat(bitmap, keepAlpha: true);
        Assert.Equal(MatType.CV_8UC4, bgra.Type());
        using var bitmap2 = SkiaInterop.ToBitmap(bgra, SKColorType.Rgba8888);
        Assert.True(SkiaInterop.ToTensor(bitmap2, keepAlpha: true).allclose(rgba, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Bitmaps_with_padded_rows_and_other_colour_types_convert()
    {
        using var bgr = TestImages.Read("fruits.jpg");
        using var packed = SkiaInterop.ToBitmap(bgr, SKColorType.Rgba8888);
        // Rows padded by 64 bytes: the copy goes row by row.
        var info = new SKImageInfo(packed.Width, packed.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var padded = new SKBitmap(info, info.RowBytes + 64);
        CopyPixels(packed, padded);
        Assert.Equal(info.RowBytes + 64, padded.RowBytes);
        using var fromPadded = SkiaInterop.ToMat(padded);
        Assert.Equal(0, TestImages.MaxAbsDiff(bgr, fromPadded));
        using var scope = NewDisposeScope();
        Assert.True(SkiaInterop.ToTensor(padded).allclose(TensorMat.ToTensor(bgr), rtol: 0, atol: 1e-6));

        // RGB565 is converted by Skia first (lossy by nature, so compare loosely).
        using var rgb565 = packed.Copy(SKColorType.Rgb565);
        using var fromRgb565 = SkiaInterop.ToMat(rgb565);
        Assert.True(TestImages.MeanAbsDiff(bgr, fromRgb565) < 4);
    }

    [Fact]
    public void Wrong_inputs_are_rejected_with_a_reason()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => SkiaInterop.ToBitmap(zeros(2, 8, 8)));
        Assert.Contains("1, 3 or 4 channels", e.Message);
        e = Assert.Throws<ArgumentException>(() => SkiaInterop.ToBitmap(zeros(3, 8, 8), SKColorType.Gray8));
        Assert.Contains("Gray8", e.Message);
        using var bitmap = new SKBitmap(4, 4);
        e = Assert.Throws<ArgumentException>(() => SkiaInterop.ToTensor(bitmap, dtype: ScalarType.Int64));
        Assert.Contains("Float32", e.Message);
        using var empty = new Mat();
        Assert.Throws<ArgumentException>(() => SkiaInterop.ToBitmap(empty));
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static void CopyPixels(SKBitmap from, SKBitmap to)
    {
        var row = new byte[from.Width * 4];
        for (var y = 0; y < from.Height; y++)
        {
            Marshal.Copy(from.GetPixels() + y * from.RowBytes, row, 0, row.Length);
            Marshal.Copy(row, 0, to.GetPixels() + y * to.RowBytes, row.Length);
        }
    }
}
