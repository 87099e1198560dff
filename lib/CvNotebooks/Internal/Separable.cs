using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks;

/// The building block of linear filters. libtorch's CPU conv2d is 30-250x slower than OpenCV for small image
/// filters (DESIGN.md, measured); a weighted sum of shifted views of the padded image is ~10x faster and runs
/// unchanged on CUDA. A k-tap separable filter costs 2k multiply-adds per pixel.
internal static class Separable
{
    /// Correlates every channel of (B,C,H,W) with kx along the width and ky along the height (both odd length,
    /// centred), borders as given. Same output size.
    public static Tensor Filter(Tensor x, float[] kx, float[] ky, Border border)
    {
        using var scope = NewDisposeScope();
        var rx = kx.Length / 2;
        var ry = ky.Length / 2;
        var padded = Padding.Pad(x, rx, rx, ry, ry, border);
        var rows = Along(padded, ky, axis: 2, outLength: x.shape[2]);
        var result = Along(rows, kx, axis: 3, outLength: x.shape[3]);
        return result.MoveToOuterDisposeScope();
    }

    /// Correlates along one axis only (axis 2 = height, 3 = width) of an already padded tensor.
    public static Tensor Along(Tensor padded, float[] k, int axis, long outLength)
    {
        Tensor? acc = null;
        for (var i = 0; i < k.Length; i++)
        {
            if (k[i] == 0) continue;
            var view = padded.narrow(axis, i, outLength);
            if (acc is null) acc = view.mul(k[i]);
            else acc.add_(view, alpha: k[i]);
        }
        return acc ?? zeros_like(padded.narrow(axis, 0, outLength));
    }
}
