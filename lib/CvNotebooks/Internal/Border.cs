using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks;

/// How a kernel sees pixels outside the image; names and meanings as OpenCV's BorderTypes.
public enum Border
{
    /// gfedcb|abcdefgh|gfedcba (OpenCV's default, BORDER_REFLECT_101).
    Reflect101,
    /// fedcba|abcdefgh|hgfedcb (BORDER_REFLECT).
    Reflect,
    /// aaaaaa|abcdefgh|hhhhhhh (BORDER_REPLICATE).
    Replicate,
    /// 000000|abcdefgh|0000000 (BORDER_CONSTANT with 0).
    Constant,
}

internal static class Padding
{
    /// Pads the last two axes of a (B,C,H,W) tensor by (left, right, top, bottom) like OpenCV's copyMakeBorder.
    /// TorchSharp's "reflect" is OpenCV's Reflect101; OpenCV's Reflect (edge repeated) is built by hand.
    public static Tensor Pad(Tensor x, long left, long right, long top, long bottom, Border border)
    {
        if (left == 0 && right == 0 && top == 0 && bottom == 0) return x.alias();
        return border switch
        {
            Border.Reflect101 when left < x.shape[3] && right < x.shape[3] && top < x.shape[2] && bottom < x.shape[2]
                => nn.functional.pad(x, [left, right, top, bottom], PaddingModes.Reflect),
            Border.Reflect101 => IndexPad(x, left, right, top, bottom, border),
            Border.Replicate => nn.functional.pad(x, [left, right, top, bottom], PaddingModes.Replicate),
            Border.Constant => nn.functional.pad(x, [left, right, top, bottom], PaddingModes.Constant, 0),
            Border.Reflect => IndexPad(x, left, right, top, bottom, border),
            _ => throw new ArgumentOutOfRangeException(nameof(border), border, null),
        };
    }

    /// Padding by gathering with an index map: works for any size (also a pad larger than the image).
    private static Tensor IndexPad(Tensor x, long left, long right, long top, long bottom, Border border)
    {
        using var scope = NewDisposeScope();
        var rows = Indices(x.shape[2], top, bottom, border, x.device);
        var cols = Indices(x.shape[3], left, right, border, x.device);
        return x.index_select(2, rows).index_select(3, cols).MoveToOuterDisposeScope();
    }

    public static Tensor Indices(long n, long before, long after, Border border, Device device)
    {
        var idx = new long[n + before + after];
        for (long i = 0; i < idx.Length; i++) idx[i] = Map(i - before, n, border);
        return tensor(idx, device: device);
    }

    /// OpenCV's borderInterpolate for one coordinate.
    public static long Map(long p, long n, Border border)
    {
        if (p >= 0 && p < n) return p;
        if (n == 1) return 0;
        switch (border)
        {
            case Border.Replicate: return p < 0 ? 0 : n - 1;
            case Border.Reflect:
            case Border.Reflect101:
                var delta = border == Border.Reflect101 ? 1 : 0;
                while (p < 0 || p >= n)
                {
                    if (p < 0) p = -p - 1 + delta;
                    else p = n - 1 - (p - n) - delta;
                }
                return p;
            default: throw new ArgumentException("Constant borders have no source index", nameof(border));
        }
    }
}
