using System.Runtime.InteropServices;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Interop;

/// Channel order of an 8-bit or float image: OpenCV stores BGR, most models and the kernels here expect RGB.
public enum ChannelOrder { Bgr, Rgb }

/// Mat to tensor and back, with one copy by pointer (never a per-pixel loop) and the channel order explicit.
public static class TensorMat
{
    /// A (1,C,H,W) float32 tensor in [0,1] from an 8-bit Mat (1, 3 or 4 channels) or a float Mat in [0,1].
    /// A 3-channel Mat is taken as BGR (OpenCV's order) and converted to `order`.
    public static Tensor ToTensor(Mat mat, ChannelOrder order = ChannelOrder.Rgb, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(mat);
        if (mat.Empty()) throw new ArgumentException("the Mat is empty (was the image read? check the path)", nameof(mat));
        var channels = mat.Channels();
        var depth = mat.Depth();
        if (depth != MatType.CV_8U && depth != MatType.CV_32F)
            throw new ArgumentException($"the Mat must be 8-bit (CV_8U) or float (CV_32F); got {mat.Type()}", nameof(mat));
        using var continuous = mat.IsContinuous() ? null : mat.Clone();
        var source = continuous ?? mat;
        long h = source.Rows, w = source.Cols;
        using var scope = NewDisposeScope();
        var dtype = depth == MatType.CV_8U ? ScalarType.Byte : ScalarType.Float32;
        var hwc = empty([h, w, channels], dtype);
        var bytes = h * w * channels * (depth == MatType.CV_8U ? 1 : 4);
        unsafe
        {
            // Tensor.bytes is a span over the CPU tensor's own storage: one copy, straight from the Mat.
            new ReadOnlySpan<byte>((void*)source.Data, checked((int)bytes)).CopyTo(hwc.bytes);
        }
        var chw = hwc.permute(2, 0, 1);
        if (order == ChannelOrder.Rgb && channels >= 3)
            chw = channels == 3 ? chw.flip(0) : cat([chw[TensorIndex.Slice(0, 3)].flip(0), chw[TensorIndex.Slice(3, 4)]], 0);
        var result = chw.to(ScalarType.Float32);
        if (depth == MatType.CV_8U) result = result.div_(255f);
        result = result.unsqueeze(0).contiguous();
        if (device is not null) result = result.to(device);
        return result.MoveToOuterDisposeScope();
    }

    /// An 8-bit Mat from one image of a (B,C,H,W) or (C,H,W) float tensor in [0,1] (values are clamped and rounded).
    /// A 3-channel tensor is taken as `order` and written as BGR.
    public static Mat ToMat(Tensor image, ChannelOrder order = ChannelOrder.Rgb, int index = 0)
    {
        using var scope = NewDisposeScope();
        var chw = OneImage(image, index);
        var channels = (int)chw.shape[0];
        if (order == ChannelOrder.Rgb && channels >= 3)
            chw = channels == 3 ? chw.flip(0) : cat([chw[TensorIndex.Slice(0, 3)].flip(0), chw[TensorIndex.Slice(3, 4)]], 0);
        var hwc = chw.to(ScalarType.Float32).mul(255f).round_().clamp_(0, 255).to(ScalarType.Byte).permute(1, 2, 0).contiguous().cpu();
        int h = (int)hwc.shape[0], w = (int)hwc.shape[1];
        var mat = new Mat(h, w, MatType.CV_8UC(channels));
        var bytes = (long)h * w * channels;
        unsafe
        {
            hwc.bytes.CopyTo(new Span<byte>((void*)mat.Data, checked((int)bytes)));
        }
        return mat;
    }

    /// One image of a (B,C,H,W), (C,H,W) or (H,W) tensor as (C,H,W) with 1, 3 or 4 channels; a clear error otherwise.
    internal static Tensor OneImage(Tensor image, int index)
    {
        ArgumentNullException.ThrowIfNull(image);
        var chw = image.dim() switch
        {
            4 => image[index],
            3 => image,
            2 => image.unsqueeze(0),
            _ => throw new ArgumentException($"expected (B,C,H,W), (C,H,W) or (H,W); got shape {Guard.Shape(image)}", nameof(image)),
        };
        var channels = chw.shape[0];
        if (channels is not (1 or 3 or 4)) throw new ArgumentException($"an image has 1, 3 or 4 channels; got {channels}", nameof(image));
        return chw;
    }

    /// A float32 Mat (CV_32FC1 or CV_32FC3 in the tensor's channel order, no conversion) from one image,
    /// for comparing kernels with OpenCV without rounding to 8 bits.
    public static Mat ToFloatMat(Tensor image, int index = 0)
    {
        using var scope = NewDisposeScope();
        var chw = image.dim() == 4 ? image[index] : image;
        var channels = (int)chw.shape[0];
        var hwc = chw.to(ScalarType.Float32).permute(1, 2, 0).contiguous().cpu();
        int h = (int)hwc.shape[0], w = (int)hwc.shape[1];
        var mat = new Mat(h, w, MatType.CV_32FC(channels));
        var bytes = (long)h * w * channels * 4;
        unsafe
        {
            hwc.bytes.CopyTo(new Span<byte>((void*)mat.Data, checked((int)bytes)));
        }
        return mat;
    }
}
