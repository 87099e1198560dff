using System.Text.RegularExpressions;
using CvNotebooks.Display;
using CvNotebooks.Interop;
using Microsoft.DotNet.Interactive.Formatting;
using OpenCvSharp;
using SkiaSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

/// The formatters as the notebook kernel uses them: value.ToDisplayString("text/html") is exactly what VS Code's
/// kernel and cvnb call for a cell's value or display(value).
public class DisplayTests
{
    public DisplayTests() => ImageFormatters.Register();

    private static string Html(object value) => value.ToDisplayString(HtmlFormatter.MimeType);

    /// The images inside an HTML output, decoded by OpenCV (unchanged channels).
    private static List<(string Mime, Mat Image)> Images(string html) =>
        Regex.Matches(html, "data:(image/[a-z]+);base64,([^\"]+)")
             .Select(m => (m.Groups[1].Value, Cv2.ImDecode(Convert.FromBase64String(m.Groups[2].Value), ImreadModes.Unchanged)))
             .ToList();

    [Theory]
    [InlineData(new long[] { 3, 32, 32 }, "float32", true)]
    [InlineData(new long[] { 1, 3, 480, 640 }, "float32", true)]
    [InlineData(new long[] { 16, 1, 28, 28 }, "float32", true)]
    [InlineData(new long[] { 1, 64, 64 }, "uint8", true)]
    [InlineData(new long[] { 1, 1, 8, 8 }, "bool", true)]
    [InlineData(new long[] { 2, 3 }, "float32", false)]            // a matrix
    [InlineData(new long[] { 10 }, "float32", false)]              // a vector of losses
    [InlineData(new long[] { 3, 4, 4 }, "float32", false)]         // too small to be a picture
    [InlineData(new long[] { 2, 32, 32 }, "float32", false)]       // optical flow
    [InlineData(new long[] { 1, 5, 32, 32 }, "float32", false)]    // feature maps
    [InlineData(new long[] { 3, 32, 32 }, "int64", false)]         // labels
    [InlineData(new long[] { 8, 10 }, "float32", false)]           // logits
    public void Only_image_shaped_tensors_count_as_images(long[] shape, string dtype, bool expected)
    {
        using var scope = NewDisposeScope();
        var type = dtype switch { "uint8" => ScalarType.Byte, "bool" => ScalarType.Bool, "int64" => ScalarType.Int64, _ => ScalarType.Float32 };
        var t = zeros(shape, type);
        Assert.Equal(expected, TensorImages.LooksLikeImage(t));
        var html = Html(t);
        Assert.Equal(expected, html.Contains("<img", StringComparison.Ordinal));
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void An_image_tensor_shows_as_a_picture_with_shape_dtype_and_device(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var rgb = TestImages.Tensor("fruits.jpg", device);
        var html = Html(rgb);
        Assert.Contains($"(1,3,{rgb.shape[2]},{rgb.shape[3]}) float32 {device.type.ToString().ToLowerInvariant()}", html);
        var images = Images(html);
        var (mime, image) = Assert.Single(images);
        using (image)
        {
            Assert.Equal("image/jpeg", mime);                          // a photo: JPEG
            Assert.True(image.Width <= ImageFormatters.MaxDisplayWidth);
            // Colours survive: the decoded picture is close to OpenCV's own reading of the file (BGR).
            using var original = TestImages.Read("fruits.jpg");
            using var resized = new Mat();
            Cv2.Resize(original, resized, image.Size(), interpolation: InterpolationFlags.Area);
            Assert.True(TestImages.MeanAbsDiff(resized, image) < 4, "the shown picture should be the image, in the right channel order");
        }
        Assert.True(html.Length < 200_000, $"one photo should stay small in a saved notebook; got {html.Length} characters");
        Assert.Equal(device.type, rgb.device.type);                     // display never moves the tensor
    }

    [Fact]
    public void A_small_gray_image_is_exact_PNG_enlarged_on_screen()
    {
        using var scope = NewDisposeScope();
        var t = arange(0, 28 * 28).reshape(1, 1, 28, 28).remainder(256).to(ScalarType.Float32).div(255);
        var html = Html(t);
        var (mime, image) = Assert.Single(Images(html));
        using (image)
        {
            Assert.Equal("image/png", mime);
            Assert.Equal((28, 28), (image.Width, image.Height));
            Assert.Equal(MatType.CV_8UC1, image.Type());
            Assert.Equal((byte)(100 % 256), image.At<byte>(100 / 28, 100 % 28));
        }
        Assert.Contains("image-rendering:pixelated", html);           // 28 px shown at least MinDisplayWidth wide
        Assert.Contains("width=\"140\"", html);
    }

    [Fact]
    public void A_batch_shows_as_a_grid_of_at_most_MaxGridCount_with_a_caption()
    {
        using var scope = NewDisposeScope();
        var batch = rand(100, 1, 28, 28);
        var html = Html(batch);
        Assert.Contains("(100,1,28,28) float32 cpu", html);
        Assert.Contains("showing 64 of 100", html);
        var (_, grid) = Assert.Single(Images(html));
        using (grid)
        {
            // 8 columns and 8 rows of 28 px images with 2 px gaps.
            Assert.Equal((8 * 30 + 2, 8 * 30 + 2), (grid.Width, grid.Height));
        }

        var few = Html(rand(3, 3, 16, 16));
        Assert.Contains("3 images", few);
        var (_, row) = Assert.Single(Images(few));
        using (row) Assert.Equal((3 * 18 + 2, 20), (row.Width, row.Height));
    }

    [Fact]
    public void Values_outside_0_1_are_scaled_and_the_caption_says_so()
    {
        using var scope = NewDisposeScope();
        var normalised = randn(3, 32, 32).mul(2);
        var html = Html(normalised);
        Assert.Contains("min-max scaled for display", html);
        var withNan = rand(1, 16, 16);
        withNan[0, 0, 0] = tensor(float.NaN);
        Assert.Contains("1 NaN/inf shown as 0", Html(withNan));
        Assert.DoesNotContain("scaled", Html(rand(3, 16, 16)));
    }

    [Fact]
    public void Tensors_that_are_not_images_keep_the_kernels_default_display()
    {
        using var scope = NewDisposeScope();
        var losses = tensor(new[] { 0.9f, 0.5f, 0.25f });
        var html = Html(losses);
        Assert.DoesNotContain("<img", html);
        Assert.Contains("<pre>", html);                                  // the kernel's text display of a tensor
        Assert.Contains("[3], type = Float32", html);

        ImageFormatters.TensorsAsImages = false;
        try
        {
            var image = Html(rand(3, 32, 32));
            Assert.DoesNotContain("<img", image);
            Assert.Contains("[3x32x32]", image);
        }
        finally
        {
            ImageFormatters.TensorsAsImages = true;
        }
    }

    [Fact]
    public void A_disposed_tensor_says_so_instead_of_failing()
    {
        var t = rand(3, 32, 32);
        t.Dispose();
        Assert.Contains("disposed tensor", Html(t));
    }

    [Fact]
    public void Mats_and_bitmaps_show_as_pictures()
    {
        using var mat = TestImages.Read("fruits.jpg");
        Assert.Contains($"{mat.Width}x{mat.Height}, 3 channel(s)", Html(mat));
        using var bitmap = SkiaInterop.ToBitmap(mat);
        var html = Html(bitmap);
        Assert.Contains("SKBitmap", html);
        Assert.Single(Images(html)).Image.Dispose();
    }

    [Fact]
    public void Show_Images_puts_titled_images_side_by_side_in_a_shared_width()
    {
        using var mat = TestImages.Read("fruits.jpg");
        using var scope = NewDisposeScope();
        var tensorImage = TestImages.Tensor("fruits.jpg", CPU);
        using var bitmap = SkiaInterop.ToBitmap(mat);
        var view = Show.Images(("input (Mat)", mat), ("as tensor", tensorImage), ("as bitmap", bitmap), ("batch", rand(4, 1, 16, 16)));
        var html = Html(view);
        Assert.Equal(view.Html, html);                                   // HtmlView is written as it is
        foreach (var title in new[] { "input (Mat)", "as tensor", "as bitmap", "batch" }) Assert.Contains(title, html);
        var images = Images(html);
        Assert.Equal(4, images.Count);
        var each = Math.Max(Show.MinWidthEach, Show.MaxSideBySideWidth / 4);
        Assert.All(images.Take(3), i => Assert.True(i.Image.Width <= each));
        Assert.Contains("display:flex", html);
        Assert.Equal("input (Mat) | as tensor | as bitmap | batch", view.ToString());
        Assert.True(html.Length < 120_000, $"three photos side by side should stay small; got {html.Length} characters");
        Assert.Equal(3, Regex.Matches(html, "data:image/jpeg").Count);
        foreach (var (_, image) in images) image.Dispose();
    }

    [Fact]
    public void Show_Image_and_Grid_accept_what_the_formatter_leaves_alone_or_explain_why_not()
    {
        using var scope = NewDisposeScope();
        var twoDim = rand(28, 28);                                       // (H,W): not auto-formatted, but Show.Image takes it
        Assert.DoesNotContain("<img", Html(twoDim));
        Assert.Contains("<img", Html(Show.Image(twoDim, "digit")));
        Assert.Contains("digit", Show.Image(twoDim, "digit").Html);

        var grid = Show.Grid(rand(10, 28, 28), "ten", maxCount: 4, columns: 2);   // (B,H,W)
        Assert.Contains("showing 4 of 10", grid.Html);
        var (_, g) = Assert.Single(Images(grid.Html));
        using (g) Assert.Equal((2 * 30 + 2, 2 * 30 + 2), (g.Width, g.Height));

        var bgrOrder = Show.Image(rand(3, 16, 16), order: ChannelOrder.Bgr);
        Assert.Contains("<img", bgrOrder.Html);

        var e = Assert.Throws<ArgumentException>(() => Show.Image(rand(2, 16, 16)));
        Assert.Contains("optical flow", e.Message);
        e = Assert.Throws<ArgumentException>(() => Show.Images(("what", 42)));
        Assert.Contains("Mat, a Tensor", e.Message);
    }
}
