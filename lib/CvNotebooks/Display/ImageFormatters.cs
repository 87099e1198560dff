using System.Net;
using System.Runtime.CompilerServices;
using CvNotebooks.Interop;
using Microsoft.DotNet.Interactive.Formatting;
using OpenCvSharp;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;
using Size = OpenCvSharp.Size;

namespace CvNotebooks.Display;

/// Formatters that make an image show as a picture in VS Code Polyglot Notebooks and in cvnb alike: both
/// format values through Microsoft.DotNet.Interactive.Formatting, so registering here is enough.
///
/// What is registered (text/html, when this assembly loads):
/// - Mat: always an image (BGR or gray; 8-bit, or float in [0,1]).
/// - SKBitmap: always an image.
/// - HtmlView (what Show.* return): its HTML as it is.
/// - PlotlyChart (what Charts.* return): an interactive chart; Plotly.NET's GenericChart too, once a notebook
///   loads Plotly.NET (Charts.PlotlyNetBridge).
/// - Tensor: an image or a grid only when TensorImages.LooksLikeImage says the shape is an image's (rank 3/4,
///   1 or 3 channels, H and W at least 8, a float, Byte or Bool dtype). Otherwise the formatter declines and
///   hands the tensor to the formatter that was in place before ours: the kernel's default text display.
///
/// Why a hand-off rather than "return false": the Formatting API (1.0.0-beta.26120.1) takes the user-registered
/// formatter for a type and writes whatever it writes; a FormatDelegate returning false produces an empty
/// output, it does not fall through to the built-in formatters. So Register() asks the API for the preferred
/// text/html formatter of Tensor before adding ours, and calls that one for tensors that are not images.
/// Set TensorsAsImages = false to see every tensor as text again.
///
/// Display never changes a tensor or the device it is on; it copies the shown pixels to the CPU for encoding.
public static class ImageFormatters
{
    /// Images wider than this are shown scaled down, so saved notebooks stay small.
    public static int MaxDisplayWidth { get; set; } = 640;

    /// Images narrower than this are shown enlarged (whole-pixel scaling, no smoothing), so a 28x28 digit is
    /// visible; the encoded image keeps its real size.
    public static int MinDisplayWidth { get; set; } = 128;

    /// When false, tensors always get the kernel's default (text) display, images or not.
    public static bool TensorsAsImages { get; set; } = true;

    private static int _registered;
    private static ITypeFormatter? _tensorFallback;

    // A notebook loads this library with #r and never calls a setup method; registering when the module
    // loads is what makes `display(mat)` work in VS Code and in cvnb without one. That is the advanced case
    // CA2255 allows.
#pragma warning disable CA2255
    [ModuleInitializer]
    internal static void RegisterOnLoad() => Register();
#pragma warning restore CA2255

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        Formatter.Register<Mat>((mat, writer) => writer.Write(ToHtml(mat)), HtmlFormatter.MimeType);
        Formatter.Register<SKBitmap>((bitmap, writer) => writer.Write(ToHtml(bitmap)), HtmlFormatter.MimeType);
        Formatter.Register<HtmlView>((view, writer) => writer.Write(view.Html), HtmlFormatter.MimeType);
        Formatter.Register<Charts.PlotlyChart>((chart, writer) => writer.Write(chart.ToHtml()), HtmlFormatter.MimeType);

        // The formatter a Tensor had before ours (the kernel's default) is where non-images go.
        try { _tensorFallback = Formatter.GetPreferredFormatterFor(typeof(Tensor), HtmlFormatter.MimeType); }
        catch (ArgumentException) { _tensorFallback = null; }
        Formatter.Register<Tensor>(FormatTensor, HtmlFormatter.MimeType);

        Charts.PlotlyNetBridge.Register();
    }

    private static bool FormatTensor(Tensor tensor, FormatContext context)
    {
        if (tensor is not null && tensor.IsInvalid)
        {
            context.Writer.Write("<div><pre>(a disposed tensor: its memory was freed, e.g. when its dispose scope ended)</pre></div>");
            return true;
        }
        if (TensorsAsImages && TensorImages.LooksLikeImage(tensor))
        {
            context.Writer.Write(TensorImages.ToHtml(tensor!));
            return true;
        }
        if (_tensorFallback is not null) return _tensorFallback.Format(tensor, context);
        context.Writer.Write($"<div><pre>{WebUtility.HtmlEncode(tensor?.ToString() ?? Formatter.NullString)}</pre></div>");
        return true;
    }

    /// An HTML img element with the Mat as an inline image (BGR or gray, 8-bit or float in [0,1]), and its size and type.
    public static string ToHtml(Mat mat, string? caption = null)
    {
        if (mat.Empty()) return "<pre>(empty Mat)</pre>";
        var label = caption ?? Describe(mat);
        return Figure(mat, null, label, MaxDisplayWidth);
    }

    /// An SKBitmap as an inline image, with its size and colour type.
    public static string ToHtml(SKBitmap bitmap, string? caption = null)
    {
        if (bitmap.Width == 0 || bitmap.Height == 0) return "<pre>(empty SKBitmap)</pre>";
        using var mat = SkiaInterop.ToMat(bitmap, keepAlpha: bitmap.AlphaType != SKAlphaType.Opaque && bitmap.ColorType != SKColorType.Gray8);
        return Figure(mat, null, caption ?? $"SKBitmap {bitmap.Width}x{bitmap.Height}, {bitmap.ColorType}, {bitmap.AlphaType}", MaxDisplayWidth);
    }

    /// "640x480, 3 channel(s), CV_8UC3": the caption of a Mat.
    public static string Describe(Mat mat) => $"{mat.Width}x{mat.Height}, {mat.Channels()} channel(s), {mat.Type()}";

    /// Colour images of more than 128x128 shown pixels (photos, grids, side-by-side thumbnails) as JPEG
    /// (quality 85), the rest as lossless PNG: a saved notebook stays small (a 640-wide photo is about 50 KB,
    /// as PNG it would be 400 KB) and a mask, a gray image or a small pattern of pixels stays exact.
    public static (byte[] Bytes, string MimeType) Encode(Mat mat) => Encode(mat, MaxDisplayWidth);

    /// As Encode(mat), shrinking to at most maxWidth pixels wide.
    public static (byte[] Bytes, string MimeType) Encode(Mat mat, int maxWidth)
    {
        using var shown = Shrink(mat, maxWidth);
        if (shown.Channels() == 3 && shown.Width * shown.Height > 128 * 128)
        {
            Cv2.ImEncode(".jpg", shown, out var jpg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 85));
            return (jpg, "image/jpeg");
        }
        Cv2.ImEncode(".png", shown, out var png);
        return (png, "image/png");
    }

    public static byte[] ToPng(Mat mat)
    {
        using var shown = Shrink(mat, MaxDisplayWidth);
        Cv2.ImEncode(".png", shown, out var png);
        return png;
    }

    /// A figure: optional title above, the image (shrunk to maxWidth, small images enlarged on screen), a caption below.
    internal static string Figure(Mat mat, string? title, string caption, int maxWidth)
    {
        var (bytes, mime) = Encode(mat, maxWidth);
        var shownWidth = Math.Min(mat.Width, Math.Max(1, maxWidth));
        var size = "";
        if (shownWidth < MinDisplayWidth && shownWidth > 0)
        {
            var factor = (MinDisplayWidth + shownWidth - 1) / shownWidth;
            size = $" width=\"{shownWidth * factor}\" style=\"image-rendering:pixelated\"";
        }
        var alt = WebUtility.HtmlEncode(title is null ? caption : $"{title}: {caption}");
        var head = title is null ? "" : $"<div style=\"font-weight:bold\">{WebUtility.HtmlEncode(title)}</div>";
        return $"<figure style=\"margin:0\">{head}<img src=\"data:{mime};base64,{Convert.ToBase64String(bytes)}\" alt=\"{alt}\"{size}/>"
             + $"<figcaption style=\"font-size:smaller\">{WebUtility.HtmlEncode(caption)}</figcaption></figure>";
    }

    private static Mat Shrink(Mat mat, int maxWidth)
    {
        using var bytes = To8Bit(mat);
        var shown = new Mat();
        maxWidth = Math.Max(1, maxWidth);
        if (bytes.Width > maxWidth)
            Cv2.Resize(bytes, shown, new Size(maxWidth, Math.Max(1, (int)Math.Round(bytes.Height * (double)maxWidth / bytes.Width))), interpolation: InterpolationFlags.Area);
        else
            bytes.CopyTo(shown);
        return shown;
    }

    private static Mat To8Bit(Mat mat)
    {
        var result = new Mat();
        if (mat.Depth() == MatType.CV_8U) mat.CopyTo(result);
        else if (mat.Depth() is var d && (d == MatType.CV_32F || d == MatType.CV_64F)) mat.ConvertTo(result, MatType.CV_8U, 255.0);
        else Cv2.Normalize(mat, result, 0, 255, NormTypes.MinMax, MatType.CV_8U);
        return result;
    }
}
