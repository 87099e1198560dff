using System.Net;
using System.Text;
using CvNotebooks.Interop;
using OpenCvSharp;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Display;

/// What notebook authors call to show pictures on purpose: one image with a title, a batch as a grid, or
/// several images side by side with titles (before/after, input/output/ground truth).
///
/// Each returns an HtmlView, so it shows when it is the cell's last value or when passed to display(), in VS
/// Code and in cvnb alike. Unlike the automatic Tensor formatter (which only takes tensors shaped like images),
/// these accept any image-like value and fail with a clear message otherwise:
/// - Mat: BGR or gray, 8-bit or float in [0,1] (OpenCV's order);
/// - Tensor: (C,H,W), (1,C,H,W) or (H,W), float (in [0,1], else min-max scaled and said so), Byte or Bool,
///   three channels in `order` (RGB by default); a (B,C,H,W) batch with B > 1 is shown as a grid;
/// - SKBitmap.
/// Outputs stay small: photos are JPEG, masks and small images PNG; widths are capped (MaxDisplayWidth for
/// one image, MaxSideBySideWidth shared by a row of images, TensorImages.MaxGridWidth for grids).
public static class Show
{
    /// The width a row of Show.Images shares: two images get half each, three a third, four or more a quarter
    /// (then the row wraps). Never less than MinWidthEach per image.
    public static int MaxSideBySideWidth { get; set; } = 960;

    /// The smallest width an image in Show.Images is shrunk to.
    public static int MinWidthEach { get; set; } = 200;

    /// One image with an optional title. A (B,C,H,W) tensor with B > 1 becomes a grid.
    public static HtmlView Image(Tensor image, string? title = null, ChannelOrder order = ChannelOrder.Rgb)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() == 4 && image.shape[0] > 1) return Grid(image, title, order: order);
        var html = TensorImages.ImageHtml(image, title, order);
        return new HtmlView(html, Title(title) + TensorImages.Describe(image));
    }

    public static HtmlView Image(Mat image, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Empty()) throw new ArgumentException("the Mat is empty (was the image read? check the path)", nameof(image));
        var caption = ImageFormatters.Describe(image);
        return new HtmlView(ImageFormatters.Figure(image, title, caption, ImageFormatters.MaxDisplayWidth), Title(title) + caption);
    }

    public static HtmlView Image(SKBitmap image, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var mat = SkiaInterop.ToMat(image);
        var caption = $"SKBitmap {image.Width}x{image.Height}, {image.ColorType}";
        return new HtmlView(ImageFormatters.Figure(mat, title, caption, ImageFormatters.MaxDisplayWidth), Title(title) + caption);
    }

    /// A (B,C,H,W) batch as a grid of at most maxCount images (TensorImages.MaxGridCount by default),
    /// `columns` per row; the caption gives shape, dtype, device and how many are shown.
    public static HtmlView Grid(Tensor batch, string? title = null, int? maxCount = null, int? columns = null, ChannelOrder order = ChannelOrder.Rgb)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        if (batch.dim() == 3) batch = batch.unsqueeze(1);   // (B,H,W): a batch of gray images (a view, freed here)
        if (batch.dim() != 4) throw new ArgumentException($"a batch has shape (B,C,H,W) or (B,H,W); got {Guard.Shape(batch)}", nameof(batch));
        var html = TensorImages.GridHtml(batch, title, order, maxCount ?? TensorImages.MaxGridCount, columns ?? TensorImages.GridColumns);
        return new HtmlView(html, Title(title) + TensorImages.Describe(batch));
    }

    /// Several images side by side, each with its title: Show.Images(("input", mat), ("blurred", tensor)).
    /// Each image is a Mat, a Tensor (a batch becomes a grid), an SKBitmap or an HtmlView.
    public static HtmlView Images(params (string Title, object Image)[] images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Length == 0) throw new ArgumentException("give at least one (title, image) pair", nameof(images));
        var each = Math.Max(MinWidthEach, MaxSideBySideWidth / Math.Min(images.Length, 4));
        var sb = new StringBuilder("<div style=\"display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start\">");
        var titles = new List<string>();
        foreach (var (title, image) in images)
        {
            sb.Append("<div style=\"flex:0 0 auto\">").Append(Item(title, image, each)).Append("</div>");
            titles.Add(title);
        }
        sb.Append("</div>");
        return new HtmlView(sb.ToString(), string.Join(" | ", titles));
    }

    private static string Item(string title, object image, int maxWidth) => image switch
    {
        Mat m when m.Empty() => $"<div><b>{WebUtility.HtmlEncode(title)}</b><pre>(empty Mat)</pre></div>",
        Mat m => ImageFormatters.Figure(m, title, ImageFormatters.Describe(m), maxWidth),
        Tensor t when t.dim() == 4 && t.shape[0] > 1 =>
            TensorImages.GridHtml(t, title, ChannelOrder.Rgb, TensorImages.MaxGridCount, TensorImages.GridColumns),
        Tensor t => TensorImages.ImageHtml(t, title, ChannelOrder.Rgb, maxWidth),
        SKBitmap b => FigureOf(b, title, maxWidth),
        HtmlView v => $"<div><div style=\"font-weight:bold\">{WebUtility.HtmlEncode(title)}</div>{v.Html}</div>",
        null => throw new ArgumentNullException(nameof(image), $"the image titled '{title}' is null"),
        _ => throw new ArgumentException($"'{title}' is a {image.GetType().Name}; Show.Images takes a Mat, a Tensor, an SKBitmap or an HtmlView", nameof(image)),
    };

    private static string FigureOf(SKBitmap bitmap, string title, int maxWidth)
    {
        using var mat = SkiaInterop.ToMat(bitmap);
        return ImageFormatters.Figure(mat, title, $"SKBitmap {bitmap.Width}x{bitmap.Height}, {bitmap.ColorType}", maxWidth);
    }

    private static string Title(string? title) => title is null ? "" : title + ": ";
}
