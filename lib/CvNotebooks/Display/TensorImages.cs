using System.Globalization;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Display;

/// How an image tensor becomes a picture, and which tensors count as images.
///
/// The rule the notebook formatter applies (LooksLikeImage): rank 3 (C,H,W) or rank 4 (B,C,H,W); C is 1 or 3;
/// H and W are at least 8; dtype is a float type, Byte or Bool. Anything else (a vector of losses, a 2x2
/// matrix, logits (B,10), a flow field (2,H,W), int64 labels) keeps the kernel's default text display.
///
/// Values: float tensors in [0,1] are shown as they are (x 255, rounded); a float tensor outside [0,1] (a
/// normalised image, a feature map, a gradient) is min-max scaled for display and the caption says so, with the
/// range it had; NaN and infinities are shown as 0 and counted in the caption. Byte tensors are 0..255; Bool is
/// a mask (true white). Three channels are RGB (this library's convention; Show.Image takes another order).
///
/// Cost: one min/max reduction on the tensor's device, then the shown images (at most MaxGridCount of a batch)
/// are converted to bytes on the device and copied to the CPU once. Large images are shrunk to
/// ImageFormatters.MaxDisplayWidth by OpenCV (INTER_AREA) before encoding, so saved notebooks stay small.
public static class TensorImages
{
    /// At most this many images of a batch are shown in a grid; the caption says how many there were.
    public static int MaxGridCount { get; set; } = 64;

    /// Images per grid row (fewer when the batch is smaller).
    public static int GridColumns { get; set; } = 8;

    /// Grids are shrunk to at most this width (wider than single images, so cells stay recognisable).
    public static int MaxGridWidth { get; set; } = 960;

    /// True when the notebook formatter shows this tensor as an image or a grid (see the class comment).
    public static bool LooksLikeImage(Tensor? t)
    {
        if (t is null || t.IsInvalid) return false;
        var rank = t.dim();
        if (rank is not (3 or 4)) return false;
        var shape = t.shape;
        long c = shape[rank - 3], h = shape[rank - 2], w = shape[rank - 1];
        if (c is not (1 or 3) || h < 8 || w < 8) return false;
        if (rank == 4 && shape[0] < 1) return false;
        return IsDisplayableDtype(t.dtype);
    }

    /// "(1,3,480,640) float32 cpu": what every tensor caption starts with.
    public static string Describe(Tensor t) =>
        $"{Guard.Shape(t)} {t.dtype.ToString().ToLowerInvariant()} {t.device}";

    internal static bool IsDisplayableDtype(ScalarType dtype) => dtype is ScalarType.Float32 or ScalarType.Float64
        or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Byte or ScalarType.Bool;

    /// HTML for a tensor the formatter accepted: one image for (C,H,W) and (1,C,H,W), a grid for B > 1.
    internal static string ToHtml(Tensor t, string? title = null, ChannelOrder order = ChannelOrder.Rgb)
    {
        var batch = t.dim() == 4 ? t.shape[0] : 1;
        return batch > 1 ? GridHtml(t, title, order, MaxGridCount, GridColumns) : ImageHtml(t, title, order);
    }

    internal static string ImageHtml(Tensor t, string? title, ChannelOrder order, int? maxWidth = null)
    {
        using var mat = ToDisplayMat(t, order, out var note);
        return ImageFormatters.Figure(mat, title, Caption(t, note), maxWidth ?? ImageFormatters.MaxDisplayWidth);
    }

    internal static string GridHtml(Tensor batch, string? title, ChannelOrder order, int maxCount, int columns)
    {
        using var mat = ToGridMat(batch, order, maxCount, columns, out var note);
        var total = batch.shape[0];
        var shown = Math.Min(total, Math.Max(1, maxCount));
        var count = shown < total ? $"showing {shown} of {total}" : $"{total} images";
        return ImageFormatters.Figure(mat, title, Caption(batch, note, count), MaxGridWidth);
    }

    /// An 8-bit BGR (or gray, or BGRA) Mat of one image: (C,H,W), (1,C,H,W) or (H,W), any displayable dtype.
    internal static Mat ToDisplayMat(Tensor t, ChannelOrder order, out string? note)
    {
        using var scope = NewDisposeScope();
        var chw = t.dim() switch
        {
            2 => t.unsqueeze(0),
            3 => t,
            4 when t.shape[0] == 1 => t[0],
            4 => throw new ArgumentException($"a batch of {t.shape[0]} images: use Show.Grid; got shape {Guard.Shape(t)}", nameof(t)),
            _ => throw new ArgumentException($"an image tensor has shape (C,H,W), (1,C,H,W) or (H,W); got {Guard.Shape(t)}", nameof(t)),
        };
        CheckChannels(chw.shape[0], t);
        var bytes = ToBytes(chw.unsqueeze(0), out note)[0];
        return ToMat(bytes, order);
    }

    /// A grid of the first maxCount images of a (B,C,H,W) batch, 2-pixel white gaps, `columns` per row.
    internal static Mat ToGridMat(Tensor batch, ChannelOrder order, int maxCount, int columns, out string? note)
    {
        if (batch.dim() != 4) throw new ArgumentException($"a batch has shape (B,C,H,W); got {Guard.Shape(batch)}", nameof(batch));
        using var scope = NewDisposeScope();
        var n = (int)Math.Min(batch.shape[0], Math.Max(1, maxCount));
        CheckChannels(batch.shape[1], batch);
        var bytes = ToBytes(batch[TensorIndex.Slice(0, n)], out note).cpu();
        long c = bytes.shape[1], h = bytes.shape[2], w = bytes.shape[3];
        const int gap = 2;
        var cols = Math.Max(1, Math.Min(n, columns));
        var rows = (n + cols - 1) / cols;
        var grid = full([c, rows * (h + gap) + gap, cols * (w + gap) + gap], (byte)255, ScalarType.Byte);
        for (var i = 0; i < n; i++)
        {
            long y = gap + i / cols * (h + gap), x = gap + i % cols * (w + gap);
            grid[TensorIndex.Colon, TensorIndex.Slice(y, y + h), TensorIndex.Slice(x, x + w)].copy_(bytes[i]);
        }
        return ToMat(grid, order);
    }

    private static void CheckChannels(long channels, Tensor t)
    {
        if (channels is 1 or 3 or 4) return;
        var hint = channels == 2 ? " A 2-channel tensor is often optical flow: draw it with Draw.FlowToColor or Draw.FlowArrows." : "";
        throw new ArgumentException($"an image has 1, 3 or 4 channels; got {channels} in shape {Guard.Shape(t)}.{hint}", nameof(t));
    }

    /// (B,C,H,W) uint8 on the tensor's device, with the note that goes into the caption (or null).
    private static Tensor ToBytes(Tensor images, out string? note)
    {
        note = null;
        if (!IsDisplayableDtype(images.dtype))
            throw new ArgumentException($"cannot show a {images.dtype} tensor as an image; use a float type in [0,1], Byte or Bool", nameof(images));
        if (images.dtype is ScalarType.Byte or ScalarType.Bool) return SkiaInterop.ToBytes(images);

        using var noGrad = no_grad();
        var x = images.detach().to(ScalarType.Float32);
        var notes = new List<string>();
        var finite = x.isfinite();
        var bad = finite.logical_not().sum().item<long>();
        if (bad > 0)
        {
            x = x.nan_to_num(0, 0, 0);
            notes.Add($"{bad} NaN/inf shown as 0");
        }
        var range = stack([x.min(), x.max()]).cpu();
        float lo = range[0].item<float>(), hi = range[1].item<float>();
        const float tolerance = 1e-3f;
        if (lo < -tolerance || hi > 1 + tolerance)
        {
            x = hi > lo ? x.sub(lo).div_(hi - lo) : x.clamp(0, 1);
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"values in [{lo:G4}, {hi:G4}], min-max scaled for display"));
        }
        note = notes.Count == 0 ? null : string.Join("; ", notes);
        return SkiaInterop.ToBytes(x);
    }

    /// (C,H,W) uint8 to an OpenCV Mat: RGB(A) in `order` becomes BGR(A); one copy from the CPU tensor.
    private static Mat ToMat(Tensor chwBytes, ChannelOrder order)
    {
        using var scope = NewDisposeScope();
        var chw = chwBytes;
        var channels = (int)chw.shape[0];
        if (order == ChannelOrder.Rgb && channels >= 3)
            chw = channels == 3 ? chw.flip(0) : cat([chw[TensorIndex.Slice(0, 3)].flip(0), chw[TensorIndex.Slice(3, 4)]], 0);
        var hwc = chw.permute(1, 2, 0).contiguous().cpu();
        int h = (int)hwc.shape[0], w = (int)hwc.shape[1];
        var mat = new Mat(h, w, MatType.CV_8UC(channels));
        unsafe
        {
            hwc.bytes.CopyTo(new Span<byte>((void*)mat.Data, checked(h * w * channels)));
        }
        return mat;
    }

    private static string Caption(Tensor t, string? note, string? count = null)
    {
        var parts = new List<string> { Describe(t) };
        if (count is not null) parts.Add(count);
        if (note is not null) parts.Add(note);
        return string.Join(", ", parts);
    }
}
