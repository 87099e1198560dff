using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Color;

/// Colour-space conversions of (B,3,H,W) float32 batches, formula for formula as OpenCV's float (CV_32F)
/// cvtColor, so a notebook can check every result against OpenCV. Inputs are RGB in [0,1] unless named
/// otherwise (OpenCV reads BGR: use <see cref="BgrToRgb"/> or Interop.TensorMat, which converts on load).
/// Every conversion is a handful of element-wise tensor operations on per-channel views: it stays on the
/// device it was given and costs a few milliseconds per full-HD image on the CPU.
///
/// Ranges returned (OpenCV's float convention, except hue which is scaled to [0,1]):
/// <list type="bullet">
/// <item>HSV: H in [0,1) meaning 0..360 degrees (OpenCV's float H is in degrees: multiply by 360), S and V in [0,1].</item>
/// <item>HLS: H in [0,1) as above, L and S in [0,1]; channels in OpenCV's order H, L, S.</item>
/// <item>YCrCb: Y in [0,1], Cr and Cb in [0,1] centred on 0.5; channels in OpenCV's order Y, Cr, Cb.</item>
/// <item>Lab (CIE L*a*b*, sRGB, D65 white): L in [0,100], a and b roughly in [-127,127], as OpenCV's float Lab.</item>
/// </list>
public static class ColorSpaces
{
    // OpenCV's FLT_EPSILON guard in RGB2HSV_f.
    private const float Epsilon = 1.1920929e-7f;

    /// Swaps the first and third channels: RGB to BGR (OpenCV's order).
    public static Tensor RgbToBgr(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        return images.flip(1);
    }

    /// Swaps the first and third channels: BGR (OpenCV's order) to RGB.
    public static Tensor BgrToRgb(Tensor images) => RgbToBgr(images);

    /// Luma of an RGB batch: 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, OpenCV's weights), shape (B,1,H,W).
    public static Tensor RgbToGray(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        return Luma(images, red: 0, blue: 2).MoveToOuterDisposeScope();
    }

    /// Luma of a BGR batch (channels in OpenCV's order), shape (B,1,H,W).
    public static Tensor BgrToGray(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        return Luma(images, red: 2, blue: 0).MoveToOuterDisposeScope();
    }

    /// A gray (B,1,H,W) batch repeated into three equal channels (B,3,H,W), to show or to feed a colour model.
    public static Tensor GrayToRgb(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 1);
        using var scope = NewDisposeScope();
        return images.expand(images.shape[0], 3, images.shape[2], images.shape[3]).contiguous().MoveToOuterDisposeScope();
    }

    /// RGB to HSV. V = max(R,G,B), S = (V - min)/V, and the hue is the angle on the colour hexagon:
    /// H = 60 (G - B)/(V - min) when V = R, 120 + 60 (B - R)/(V - min) when V = G, else 240 + 60 (R - G)/(V - min),
    /// wrapped into [0,360) and returned divided by 360, so H in [0,1). Gray pixels (V = min) get H = 0, S = 0.
    public static Tensor RgbToHsv(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        var (r, g, b) = Split(images);
        var v = maximum(r, maximum(g, b));
        var vmin = minimum(r, minimum(g, b));
        var diff = v - vmin;
        var s = diff / (v.abs() + Epsilon);
        var h = Hue(r, g, b, v, diff.add(Epsilon));
        return cat([h, s, v], 1).MoveToOuterDisposeScope();
    }

    /// HSV (H in [0,1) meaning 0..360 degrees, S and V in [0,1]) back to RGB. With h6 = 6 H, each channel is
    /// V - V S clamp(min(k, 4 - k), 0, 1) with k = (n + h6) mod 6 and n = 5, 3, 1 for R, G, B: the same six
    /// sectors OpenCV's table walks through, written without branches.
    public static Tensor HsvToRgb(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        var (h, s, v) = Split(images);
        var h6 = h * 6f;
        var vs = v * s;
        Tensor Channel(float n)
        {
            var k = (h6 + n).remainder(6f);
            var w = minimum(k, 4f - k).clamp_(0f, 1f);
            return v - vs * w;
        }
        return cat([Channel(5), Channel(3), Channel(1)], 1).MoveToOuterDisposeScope();
    }

    /// RGB to HLS (OpenCV's channel order H, L, S). L = (max + min)/2; S = (max - min)/(max + min) when L &lt; 0.5,
    /// else (max - min)/(2 - max - min); H as in <see cref="RgbToHsv"/>, returned in [0,1). Gray pixels get H = S = 0.
    public static Tensor RgbToHls(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        var (r, g, b) = Split(images);
        var vmax = maximum(r, maximum(g, b));
        var vmin = minimum(r, minimum(g, b));
        var diff = vmax - vmin;
        var sum = vmax + vmin;
        var l = sum * 0.5f;
        var chromatic = diff > Epsilon; // OpenCV: hue and saturation only where max - min > FLT_EPSILON
        var safeDiff = where(chromatic, diff, ones_like(diff));
        var s = where(l < 0.5f, diff / sum.clamp_min(Epsilon), diff / (2f - sum).clamp_min(Epsilon));
        s = where(chromatic, s, zeros_like(s));
        var h = where(chromatic, Hue(r, g, b, vmax, safeDiff), zeros_like(l));
        return cat([h, l, s], 1).MoveToOuterDisposeScope();
    }

    /// HLS (OpenCV's order H, L, S; H in [0,1) meaning 0..360 degrees) back to RGB. With a = S min(L, 1 - L),
    /// each channel is L - a clamp(min(k - 3, 9 - k), -1, 1) with k = (n + 12 H) mod 12 and n = 0, 8, 4 for R, G, B.
    public static Tensor HlsToRgb(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        var (h, l, s) = Split(images);
        var h12 = h * 12f;
        var a = s * minimum(l, 1f - l);
        Tensor Channel(float n)
        {
            var k = (h12 + n).remainder(12f);
            var w = minimum(k - 3f, 9f - k).clamp_(-1f, 1f);
            return l - a * w;
        }
        return cat([Channel(0), Channel(8), Channel(4)], 1).MoveToOuterDisposeScope();
    }

    /// RGB to YCrCb (OpenCV's order Y, Cr, Cb): Y = 0.299 R + 0.587 G + 0.114 B, Cr = 0.713 (R - Y) + 0.5,
    /// Cb = 0.564 (B - Y) + 0.5. The chroma offset 0.5 is OpenCV's for float images (128 for 8-bit).
    public static Tensor RgbToYCrCb(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        var (r, _, b) = Split(images);
        var y = Luma(images, red: 0, blue: 2);
        var cr = (r - y).mul_(0.713f).add_(0.5f);
        var cb = (b - y).mul_(0.564f).add_(0.5f);
        return cat([y, cr, cb], 1).MoveToOuterDisposeScope();
    }

    /// YCrCb (OpenCV's order Y, Cr, Cb, chroma centred on 0.5) back to RGB: R = Y + 1.403 (Cr - 0.5),
    /// G = Y - 0.714 (Cr - 0.5) - 0.344 (Cb - 0.5), B = Y + 1.773 (Cb - 0.5).
    public static Tensor YCrCbToRgb(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        var (y, crIn, cbIn) = Split(images);
        var cr = crIn - 0.5f;
        var cb = cbIn - 0.5f;
        var r = y + cr * 1.403f;
        var g = (y - cr * 0.714f).sub_(cb * 0.344f);
        var b = y + cb * 1.773f;
        return cat([r, g, b], 1).MoveToOuterDisposeScope();
    }

    // sRGB primaries to XYZ (D65), rows X, Y, Z; OpenCV's sRGB2XYZ_D65 and D65 white point.
    private static readonly double[] RgbToXyz = [0.412453, 0.357580, 0.180423, 0.212671, 0.715160, 0.072169, 0.019334, 0.119193, 0.950227];
    private static readonly double[] XyzToRgb = [3.240479, -1.53715, -0.498535, -0.969256, 1.875991, 0.041556, 0.055648, -0.204043, 1.057311];
    private static readonly double[] WhiteD65 = [0.950456, 1.0, 1.088754];

    /// sRGB (gamma-encoded, in [0,1]) to CIE L*a*b* with D65 white, as OpenCV's float COLOR_RGB2Lab: undo the sRGB
    /// gamma, go to XYZ scaled by the white point, then f(t) = cbrt(t) above (6/29)^3 and 7.787 t + 16/116 below;
    /// L = 116 f(Y) - 16 (903.3 Y in the dark), a = 500 (f(X) - f(Y)), b = 200 (f(Y) - f(Z)).
    /// Returns L in [0,100] and a, b roughly in [-127,127] (OpenCV's float ranges, not the 8-bit ones). Inputs are
    /// clipped to [0,1] first, as OpenCV does.
    public static Tensor RgbToLab(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        var linear = images.clamp(0f, 1f);
        linear = where(linear <= 0.04045f, linear / 12.92f, linear.add(0.055f).div_(1.055f).pow_(2.4f));
        var (r, g, b) = Split(linear);
        Tensor Row(int i) => r * (float)(RgbToXyz[3 * i] / WhiteD65[i])
            + g * (float)(RgbToXyz[3 * i + 1] / WhiteD65[i])
            + b * (float)(RgbToXyz[3 * i + 2] / WhiteD65[i]);
        var x = Row(0);
        var y = Row(1);
        var z = Row(2);
        const float t0 = 0.008856f; // (6/29)^3
        Tensor F(Tensor t) => where(t > t0, t.pow(1f / 3f), t * 7.787f + 16f / 116f);
        var fx = F(x);
        var fy = F(y);
        var fz = F(z);
        var lightness = where(y > t0, fy * 116f - 16f, y * 903.3f);
        var a = (fx - fy).mul_(500f);
        var bb = (fy - fz).mul_(200f);
        return cat([lightness, a, bb], 1).MoveToOuterDisposeScope();
    }

    /// CIE L*a*b* (OpenCV's float ranges: L in [0,100], a and b about [-127,127]) back to sRGB in [0,1], inverting
    /// <see cref="RgbToLab"/> as OpenCV's COLOR_Lab2RGB does; colours outside the sRGB gamut are clipped to [0,1].
    public static Tensor LabToRgb(Tensor images)
    {
        Guard.Images(images, nameof(images), channels: 3);
        using var scope = NewDisposeScope();
        var (l, a, b) = Split(images);
        const float lThreshold = 0.008856f * 903.3f;
        const float fThreshold = 7.787f * 0.008856f + 16f / 116f;
        var dark = l <= lThreshold;
        var y = where(dark, l / 903.3f, ((l + 16f) / 116f).pow_(3f));
        var fy = where(dark, y * 7.787f + 16f / 116f, (l + 16f) / 116f);
        Tensor Inverse(Tensor f) => where(f <= fThreshold, (f - 16f / 116f) / 7.787f, f.pow(3f));
        var x = Inverse(a / 500f + fy);
        var z = Inverse(fy - b / 200f);
        Tensor Row(int i) => x * (float)(XyzToRgb[3 * i] * WhiteD65[0])
            + y * (float)(XyzToRgb[3 * i + 1] * WhiteD65[1])
            + z * (float)(XyzToRgb[3 * i + 2] * WhiteD65[2]);
        var linear = cat([Row(0), Row(1), Row(2)], 1).clamp_(0f, 1f);
        var srgb = where(linear <= 0.0031308f, linear * 12.92f, linear.pow(1f / 2.4f).mul_(1.055f).sub_(0.055f));
        return srgb.MoveToOuterDisposeScope();
    }

    private static (Tensor, Tensor, Tensor) Split(Tensor images) =>
        (images.narrow(1, 0, 1), images.narrow(1, 1, 1), images.narrow(1, 2, 1));

    private static Tensor Luma(Tensor images, int red, int blue) =>
        images.narrow(1, red, 1).mul(0.299f)
            .add_(images.narrow(1, 1, 1), alpha: 0.587f)
            .add_(images.narrow(1, blue, 1), alpha: 0.114f);

    /// Hue in [0,1) from OpenCV's hexagon formula; `span` is max - min (plus OpenCV's epsilon for HSV).
    private static Tensor Hue(Tensor r, Tensor g, Tensor b, Tensor max, Tensor span)
    {
        var k = 60f / span;
        var fromRed = (g - b) * k;
        var fromGreen = (b - r) * k + 120f;
        var fromBlue = (r - g) * k + 240f;
        var h = where(max == r, fromRed, where(max == g, fromGreen, fromBlue));
        h = where(h < 0f, h + 360f, h).div_(360f);
        // A tiny negative angle wraps to 360 - epsilon, which rounds to exactly 360 in float: keep H in [0,1).
        return h.masked_fill_(h >= 1f, 0f);
    }
}
