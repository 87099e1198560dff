using OpenCvSharp;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Interop;

/// SKBitmap (SkiaSharp, what ML.NET and many .NET imaging samples use) to tensor and Mat, and back.
///
/// Every conversion copies the pixels once, by pointer: SKBitmap.GetPixels() is read or written as a span
/// (or wrapped in a Mat header so OpenCV's own colour conversion writes straight into the bitmap); there is
/// never a per-pixel loop in C#. Rows are copied one by one only when a bitmap pads its rows (RowBytes larger
/// than width x bytes per pixel).
///
/// Channel order is explicit on both sides:
/// - the bitmap's order is its SKColorType: Rgba8888 stores R,G,B,A in memory, Bgra8888 stores B,G,R,A
///   (Skia's native order on little-endian machines, SKImageInfo.PlatformColorType), Gray8 one byte;
/// - the tensor's order is a ChannelOrder (RGB, this library's convention, unless asked otherwise);
/// - a Mat is BGR or BGRA (OpenCV's order) or gray.
/// Other colour types (Rgb565, RgbaF16, ...) are first converted by Skia to Rgba8888: one extra copy.
///
/// Alpha: a bitmap made here is Opaque when there is no alpha channel and Unpremul when there is, so the
/// tensor's values come back exactly. Reading a Premul bitmap keeps its bytes as stored (colour multiplied by
/// alpha); for opaque pixels that makes no difference.
public static class SkiaInterop
{
    /// A (1,C,H,W) tensor from a bitmap: C = 3 (or 4 with keepAlpha) in `order`, or C = 1 for a Gray8 bitmap.
    /// dtype Float32 gives values in [0,1]; Byte gives the bytes 0..255 unchanged.
    public static Tensor ToTensor(SKBitmap bitmap, ChannelOrder order = ChannelOrder.Rgb, ScalarType dtype = ScalarType.Float32,
                                  bool keepAlpha = false, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (dtype is not (ScalarType.Float32 or ScalarType.Byte))
            throw new ArgumentException($"dtype must be Float32 (values in [0,1]) or Byte (0..255); got {dtype}", nameof(dtype));
        using var converted = Readable(bitmap);
        var source = converted ?? bitmap;
        var bpp = source.ColorType == SKColorType.Gray8 ? 1 : 4;
        long h = source.Height, w = source.Width;
        if (h == 0 || w == 0) throw new ArgumentException("the bitmap is empty", nameof(bitmap));

        using var scope = NewDisposeScope();
        var hwc = empty([h, w, bpp], ScalarType.Byte);
        CopyRows(source.GetPixels(), source.RowBytes, hwc, (int)h, (int)w * bpp, toTensor: true);
        var chw = hwc.permute(2, 0, 1);
        if (bpp == 4)
        {
            // Memory order is R,G,B,A (Rgba8888) or B,G,R,A (Bgra8888); pick the tensor's order with one index.
            var storedRgb = source.ColorType == SKColorType.Rgba8888;
            var wantRgb = order == ChannelOrder.Rgb;
            long[] pick = storedRgb == wantRgb ? [0, 1, 2] : [2, 1, 0];
            if (keepAlpha) pick = [.. pick, 3];
            chw = chw.index_select(0, tensor(pick));
        }
        var result = dtype == ScalarType.Byte ? chw.contiguous() : chw.to(ScalarType.Float32).div_(255f);
        result = result.unsqueeze(0).contiguous();
        if (device is not null) result = result.to(device);
        return result.MoveToOuterDisposeScope();
    }

    /// A bitmap from one image of a (B,C,H,W), (C,H,W) or (H,W) tensor: float in [0,1] (clamped and rounded) or
    /// Byte. C = 1 gives a Gray8 bitmap (whatever colorType says); C = 3 or 4 are read in `order` and stored as
    /// colorType (Rgba8888 or Bgra8888). A 3-channel image gets alpha 255 and an Opaque bitmap.
    public static SKBitmap ToBitmap(Tensor image, SKColorType colorType = SKColorType.Rgba8888, ChannelOrder order = ChannelOrder.Rgb, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (colorType is not (SKColorType.Rgba8888 or SKColorType.Bgra8888 or SKColorType.Gray8))
            throw new ArgumentException($"colorType must be Rgba8888, Bgra8888 or Gray8; got {colorType}", nameof(colorType));
        using var scope = NewDisposeScope();
        var chw = TensorMat.OneImage(image, index);
        var channels = (int)chw.shape[0];
        if (channels == 1 && colorType != SKColorType.Gray8) colorType = SKColorType.Gray8;
        if (channels > 1 && colorType == SKColorType.Gray8)
            throw new ArgumentException($"a {channels}-channel image cannot be stored as Gray8; convert it to gray first", nameof(colorType));

        var bytes = ToBytes(chw);                       // (C,H,W) uint8 on the image's device
        if (channels > 1)
        {
            var tensorRgb = order == ChannelOrder.Rgb;
            var storeRgb = colorType == SKColorType.Rgba8888;
            long[] pick = tensorRgb == storeRgb ? [0, 1, 2] : [2, 1, 0];
            var colour = bytes.index_select(0, tensor(pick, device: bytes.device));
            var alpha = channels == 4 ? bytes[TensorIndex.Slice(3, 4)] : full([1, bytes.shape[1], bytes.shape[2]], (byte)255, ScalarType.Byte, bytes.device);
            bytes = cat([colour, alpha], 0);
        }
        var hwc = bytes.permute(1, 2, 0).contiguous().cpu();
        int h = (int)hwc.shape[0], w = (int)hwc.shape[1];
        var alphaType = channels == 4 ? SKAlphaType.Unpremul : SKAlphaType.Opaque;
        var bitmap = new SKBitmap(new SKImageInfo(w, h, colorType, alphaType));
        CopyRows(bitmap.GetPixels(), bitmap.RowBytes, hwc, h, w * (colorType == SKColorType.Gray8 ? 1 : 4), toTensor: false);
        bitmap.NotifyPixelsChanged();
        return bitmap;
    }

    /// A Mat from a bitmap: BGR (or BGRA with keepAlpha) for colour bitmaps, 8-bit gray for Gray8. OpenCV's
    /// colour conversion reads the bitmap's pixels in place and writes the new Mat: one pass.
    public static Mat ToMat(SKBitmap bitmap, bool keepAlpha = false)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var converted = Readable(bitmap);
        var source = converted ?? bitmap;
        if (source.Width == 0 || source.Height == 0) throw new ArgumentException("the bitmap is empty", nameof(bitmap));
        var gray = source.ColorType == SKColorType.Gray8;
        using var view = Mat.FromPixelData(source.Height, source.Width, gray ? MatType.CV_8UC1 : MatType.CV_8UC4, source.GetPixels(), source.RowBytes);
        var result = new Mat();
        if (gray) view.CopyTo(result);
        else if (source.ColorType == SKColorType.Bgra8888)
        {
            if (keepAlpha) view.CopyTo(result);
            else Cv2.CvtColor(view, result, ColorConversionCodes.BGRA2BGR);
        }
        else Cv2.CvtColor(view, result, keepAlpha ? ColorConversionCodes.RGBA2BGRA : ColorConversionCodes.RGBA2BGR);
        return result;
    }

    /// A bitmap from an 8-bit Mat: BGR or BGRA (OpenCV's order) or gray; a float Mat is taken as [0,1].
    /// colorType picks the bitmap's memory order (Bgra8888 is Skia's native one on x64); a gray Mat gives Gray8.
    /// OpenCV converts straight into the bitmap's pixels: one pass.
    public static SKBitmap ToBitmap(Mat mat, SKColorType colorType = SKColorType.Bgra8888)
    {
        ArgumentNullException.ThrowIfNull(mat);
        if (mat.Empty()) throw new ArgumentException("the Mat is empty (was the image read? check the path)", nameof(mat));
        if (colorType is not (SKColorType.Rgba8888 or SKColorType.Bgra8888 or SKColorType.Gray8))
            throw new ArgumentException($"colorType must be Rgba8888, Bgra8888 or Gray8; got {colorType}", nameof(colorType));
        var channels = mat.Channels();
        if (channels is not (1 or 3 or 4)) throw new ArgumentException($"a Mat image has 1, 3 or 4 channels; got {channels}", nameof(mat));
        using var bytes8 = mat.Depth() == MatType.CV_8U ? null : To8Bit(mat);
        var source = bytes8 ?? mat;
        if (channels == 1) colorType = SKColorType.Gray8;
        else if (colorType == SKColorType.Gray8)
            throw new ArgumentException($"a {channels}-channel Mat cannot be stored as Gray8; convert it with Cv2.CvtColor first", nameof(colorType));

        var alphaType = channels == 4 ? SKAlphaType.Unpremul : SKAlphaType.Opaque;
        var bitmap = new SKBitmap(new SKImageInfo(source.Width, source.Height, colorType, alphaType));
        using (var target = Mat.FromPixelData(source.Height, source.Width, channels == 1 ? MatType.CV_8UC1 : MatType.CV_8UC4, bitmap.GetPixels(), bitmap.RowBytes))
        {
            switch (channels, colorType)
            {
                case (1, _): source.CopyTo(target); break;
                case (3, SKColorType.Bgra8888): Cv2.CvtColor(source, target, ColorConversionCodes.BGR2BGRA); break;
                case (3, _): Cv2.CvtColor(source, target, ColorConversionCodes.BGR2RGBA); break;
                case (4, SKColorType.Bgra8888): source.CopyTo(target); break;
                default: Cv2.CvtColor(source, target, ColorConversionCodes.BGRA2RGBA); break;
            }
        }
        bitmap.NotifyPixelsChanged();
        return bitmap;
    }

    /// Null when the bitmap can be read as it is (Rgba8888, Bgra8888, Gray8); otherwise a Rgba8888 copy.
    private static SKBitmap? Readable(SKBitmap bitmap)
    {
        if (bitmap.ColorType is SKColorType.Rgba8888 or SKColorType.Bgra8888 or SKColorType.Gray8) return null;
        return bitmap.Copy(SKColorType.Rgba8888)
               ?? throw new ArgumentException($"SkiaSharp cannot convert a {bitmap.ColorType} bitmap to Rgba8888", nameof(bitmap));
    }

    /// Copies packed rows between a CPU byte tensor and a (possibly row-padded) pixel buffer.
    private static unsafe void CopyRows(IntPtr pixels, int rowBytes, Tensor bytes, int rows, int packedRowBytes, bool toTensor)
    {
        var span = bytes.bytes;
        var total = checked(rows * packedRowBytes);
        if (rowBytes == packedRowBytes)
        {
            var buffer = new Span<byte>((void*)pixels, total);
            if (toTensor) buffer.CopyTo(span); else span[..total].CopyTo(buffer);
            return;
        }
        for (var y = 0; y < rows; y++)
        {
            var row = new Span<byte>((byte*)pixels + (long)y * rowBytes, packedRowBytes);
            var slice = span.Slice(y * packedRowBytes, packedRowBytes);
            if (toTensor) row.CopyTo(slice); else slice.CopyTo(row);
        }
    }

    /// (C,H,W) uint8 from float [0,1] (clamped, rounded) or uint8 (unchanged); bool masks become 0/255.
    internal static Tensor ToBytes(Tensor chw)
    {
        using var noGrad = no_grad();
        var t = chw.detach();
        return t.dtype switch
        {
            ScalarType.Byte => t,
            ScalarType.Bool => t.to(ScalarType.Byte).mul_(255),
            _ => t.to(ScalarType.Float32).mul(255f).round_().clamp_(0, 255).to(ScalarType.Byte),
        };
    }

    private static Mat To8Bit(Mat mat)
    {
        var result = new Mat();
        if (mat.Depth() == MatType.CV_32F || mat.Depth() == MatType.CV_64F) mat.ConvertTo(result, MatType.CV_8U, 255.0);
        else Cv2.Normalize(mat, result, 0, 255, NormTypes.MinMax, MatType.CV_8U);
        return result;
    }
}
