using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks;

/// The one place that checks what kernels are given, so every kernel rejects a wrong rank, dtype or range
/// with the same clear message naming the argument.
public static class Guard
{
    /// A batch of images: rank 4 (B,C,H,W), float32. With checkRange, values must lie in [0,1] (a small
    /// tolerance allows rounding). Checking the range reads the tensor, so hot paths may skip it.
    public static void Images(Tensor images, string name = "images", int? channels = null, bool checkRange = false)
    {
        ArgumentNullException.ThrowIfNull(images, name);
        if (images.dim() != 4)
            throw new ArgumentException($"{name} must have shape (B,C,H,W); got rank {images.dim()} with shape {Shape(images)}. Add a batch axis with unsqueeze(0).", name);
        if (images.dtype != ScalarType.Float32)
            throw new ArgumentException($"{name} must be float32 with values in [0,1]; got {images.dtype}. Convert with images.to(ScalarType.Float32) / 255.", name);
        if (channels is { } c && images.shape[1] != c)
            throw new ArgumentException($"{name} must have {c} channel(s); got {images.shape[1]} in shape {Shape(images)}.", name);
        if (images.shape[2] == 0 || images.shape[3] == 0)
            throw new ArgumentException($"{name} is empty: shape {Shape(images)}.", name);
        if (checkRange) Range(images, 0, 1, name);
    }

    /// Values must lie in [min, max] (with a tolerance of 1e-4 for rounding).
    public static void Range(Tensor t, double min, double max, string name)
    {
        using var scope = NewDisposeScope();
        var lo = t.min().item<float>();
        var hi = t.max().item<float>();
        if (lo < min - 1e-4 || hi > max + 1e-4 || float.IsNaN(lo) || float.IsNaN(hi))
            throw new ArgumentException($"{name} must have values in [{min},{max}]; found [{lo},{hi}].", name);
    }

    /// An odd, positive kernel size, as OpenCV requires for centred filters.
    public static void OddSize(int size, string name, int min = 1)
    {
        if (size < min || size % 2 == 0)
            throw new ArgumentOutOfRangeException(name, size, $"{name} must be an odd number of at least {min}; got {size}.");
    }

    public static void Positive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a positive number; got {value}.");
    }

    /// Both tensors on the same device, so a kernel never moves data behind the caller's back.
    public static void SameDevice(Tensor a, Tensor b, string nameA, string nameB)
    {
        if (a.device.type != b.device.type || a.device.index != b.device.index)
            throw new ArgumentException($"{nameA} is on {a.device} but {nameB} is on {b.device}; move one with .to(device).");
    }

    public static string Shape(Tensor t) => "(" + string.Join(",", t.shape) + ")";
}
