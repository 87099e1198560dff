using System.Runtime.CompilerServices;
using Microsoft.DotNet.Interactive.Formatting;
using OpenCvSharp;

namespace CvNotebooks.Display;

/// Formatters that make an image show as a picture in VS Code Polyglot Notebooks and in cvnb alike: both
/// format values through Microsoft.DotNet.Interactive.Formatting, so registering here is enough.
public static class ImageFormatters
{
    /// Images wider than this are shown scaled down, so saved notebooks stay small.
    public static int MaxDisplayWidth { get; set; } = 640;

    private static int _registered;

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
    }

    /// An HTML img element with the Mat as an inline image (BGR or gray, 8-bit or float in [0,1]), and its size and type.
    public static string ToHtml(Mat mat, string? caption = null)
    {
        if (mat.Empty()) return "<pre>(empty Mat)</pre>";
        var (bytes, mime) = Encode(mat);
        var label = caption ?? $"{mat.Width}x{mat.Height}, {mat.Channels()} channel(s), {mat.Type()}";
        return $"<figure style=\"margin:0\"><img src=\"data:{mime};base64,{Convert.ToBase64String(bytes)}\" alt=\"{System.Net.WebUtility.HtmlEncode(label)}\"/>"
             + $"<figcaption style=\"font-size:smaller\">{System.Net.WebUtility.HtmlEncode(label)}</figcaption></figure>";
    }

    /// Photos (colour, more than 256x256) as JPEG, the rest as lossless PNG: a saved notebook stays small
    /// and a mask or a plot of pixels stays exact.
    public static (byte[] Bytes, string MimeType) Encode(Mat mat)
    {
        using var shown = Shrink(mat);
        if (shown.Channels() >= 3 && shown.Width * shown.Height > 256 * 256)
        {
            Cv2.ImEncode(".jpg", shown, out var jpg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 85));
            return (jpg, "image/jpeg");
        }
        Cv2.ImEncode(".png", shown, out var png);
        return (png, "image/png");
    }

    public static byte[] ToPng(Mat mat)
    {
        using var shown = Shrink(mat);
        Cv2.ImEncode(".png", shown, out var png);
        return png;
    }

    private static Mat Shrink(Mat mat)
    {
        using var bytes = To8Bit(mat);
        var shown = new Mat();
        if (bytes.Width > MaxDisplayWidth)
            Cv2.Resize(bytes, shown, new Size(MaxDisplayWidth, (int)Math.Round(bytes.Height * (double)MaxDisplayWidth / bytes.Width)), interpolation: InterpolationFlags.Area);
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
