using CvNotebooks.Drawing;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Scalar = OpenCvSharp.Scalar;

namespace CvNotebooks.Tests;

/// Annotations on a real photo (OpenCV's fruits.jpg, 512x480): pixels change where the drawing is and nowhere
/// else, in the palette's colour, and the input Mat is never modified.
public class DrawingTests
{
    private static Vec3b Bgr(Scalar s) => new((byte)s.Val0, (byte)s.Val1, (byte)s.Val2);

    /// Anti-aliased lines may blend their edge pixels a little with the photo.
    private static void AssertNear(Vec3b expected, Vec3b actual, int tolerance = 40)
    {
        var worst = Math.Max(Math.Abs(expected.Item0 - actual.Item0), Math.Max(Math.Abs(expected.Item1 - actual.Item1), Math.Abs(expected.Item2 - actual.Item2)));
        Assert.True(worst <= tolerance, $"expected about {expected}, got {actual}");
    }

    private static void AssertUnchanged(Mat before, Mat input) =>
        Assert.True(TestImages.MaxAbsDiff(before, input) == 0, "the input Mat must not be modified");

    /// Number of pixels that differ between two images of the same size.
    private static int Changed(Mat a, Mat b)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        using var gray = new Mat();
        Cv2.CvtColor(diff, gray, ColorConversionCodes.BGR2GRAY);
        return Cv2.CountNonZero(gray);
    }

    private static int ChangedIn(Mat a, Mat b, Rect region)
    {
        using var ra = new Mat(a, region);
        using var rb = new Mat(b, region);
        return Changed(ra, rb);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Box_outlines_take_the_class_colour_and_leave_the_inside_alone(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var image = TestImages.Read("fruits.jpg");
        using var before = image.Clone();
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[,] { { 100, 150, 300, 350 }, { 350, 60, 480, 200 } }, device: device);
        var classes = tensor(new long[] { 2, 5 }, device: device);
        var scores = tensor(new[] { 0.91f, 0.4f }, device: device);
        using var drawn = Draw.Boxes(image, boxes, classes, scores, ["apple", "a", "banana", "c", "d", "orange"], thickness: 2);

        AssertUnchanged(before, image);
        Assert.Equal(MatType.CV_8UC3, drawn.Type());
        // Outline pixels on all four sides have class 2's colour.
        var c2 = Bgr(Palette.Color(2));
        foreach (var (x, y) in new[] { (200, 150), (200, 350), (100, 250), (300, 250) })
            Assert.Equal(c2, drawn.At<Vec3b>(y, x));
        Assert.Equal(Bgr(Palette.Color(5)), drawn.At<Vec3b>(200, 415));
        // The inside of the box (away from the outline) is the photo as it was.
        Assert.Equal(0, ChangedIn(image, drawn, new Rect(103, 153, 195, 195)));
        // The label sits above the top-left corner, in the class colour.
        Assert.True(ChangedIn(image, drawn, new Rect(100, 130, 60, 19)) > 100, "a label above the first box");
        // Away from both boxes and labels nothing changed.
        Assert.Equal(0, ChangedIn(image, drawn, new Rect(0, 400, 512, 80)));
    }

    [Fact]
    public void Boxes_from_arrays_with_text_labels_have_one_colour_per_label()
    {
        using var image = TestImages.Read("fruits.jpg");
        float[][] boxes = [[20, 300, 120, 400], [200, 300, 300, 400], [350, 300, 450, 400]];
        using var drawn = Draw.Boxes(image, boxes, ["pear", "kiwi", "pear"]);
        Assert.Equal(drawn.At<Vec3b>(400, 70), drawn.At<Vec3b>(400, 400));     // both "pear" boxes
        Assert.NotEqual(drawn.At<Vec3b>(400, 70), drawn.At<Vec3b>(400, 250));  // "kiwi" differs
        using var plain = Draw.Boxes(image, boxes);                            // no labels at all
        Assert.Equal(Bgr(Palette.Color(0)), plain.At<Vec3b>(300, 70));
        Assert.Equal(0, ChangedIn(image, plain, new Rect(20, 270, 100, 28))); // nothing above the box
        var e = Assert.Throws<ArgumentException>(() => Draw.Boxes(image, boxes, classes: [1, 2]));
        Assert.Contains("classes has 2 entries for 3", e.Message);
    }

    [Fact]
    public void Keypoints_and_skeleton_edges_are_drawn_per_instance_skipping_low_scores()
    {
        using var image = TestImages.Read("fruits.jpg");
        using var scope = NewDisposeScope();
        // Two instances of three keypoints (x, y, score); the second instance's last point is not confident.
        var points = tensor(new float[] { 50, 50, 1, 150, 50, 1, 100, 120, 1, 300, 300, 1, 400, 300, 1, 350, 400, 0.1f }).reshape(2, 3, 3);
        using var drawn = Draw.Keypoints(image, points, skeleton: [(0, 1), (1, 2)], radius: 4, minScore: 0.5f);
        Assert.Equal(Bgr(Palette.Color(0)), drawn.At<Vec3b>(50, 50));
        AssertNear(Bgr(Palette.Color(0)), drawn.At<Vec3b>(50, 100));            // on the edge 0-1
        Assert.Equal(Bgr(Palette.Color(1)), drawn.At<Vec3b>(300, 400));
        Assert.Equal(0, ChangedIn(image, drawn, new Rect(340, 390, 20, 20)));  // the skipped point
        Assert.Equal(0, ChangedIn(image, drawn, new Rect(365, 330, 20, 20)));  // and its edge

        using var corners = Draw.Keypoints(image, new[] { new Point2f(10, 470) }, radius: 3, colorId: 4);
        Assert.Equal(Bgr(Palette.Color(4)), corners.At<Vec3b>(470, 10));
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Flow_arrows_follow_the_motion_and_flow_colours_encode_direction(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var image = TestImages.Read("fruits.jpg");
        using var before = image.Clone();
        using var scope = NewDisposeScope();
        int h = image.Rows, w = image.Cols;
        // Everything moves 6 px to the right, except a still band at the bottom.
        var flow = zeros(2, h, w, device: device);
        flow[0, TensorIndex.Slice(0, 400)] = tensor(6f, device: device);
        using var arrows = Draw.FlowArrows(image, flow, step: 32, color: new Scalar(0, 0, 255));
        AssertUnchanged(before, image);
        // The arrow from the grid point (16,16) runs to (22,16) in the given colour.
        AssertNear(new Vec3b(0, 0, 255), arrows.At<Vec3b>(16, 19));
        Assert.Equal(0, ChangedIn(image, arrows, new Rect(0, 410, w, h - 410)));   // no motion, no arrows
        Assert.True(Changed(image, arrows) > 100);

        using var colours = Draw.FlowToColor(flow);
        Assert.Equal((w, h), (colours.Width, colours.Height));
        var right = colours.At<Vec3b>(100, 100);                  // moving right: red at full brightness
        Assert.True(right.Item2 == 255 && right.Item0 < 10 && right.Item1 < 10, $"rightward flow should be red, got {right}");
        Assert.Equal(new Vec3b(0, 0, 0), colours.At<Vec3b>(450, 100));   // still: black

        var left = zeros(1, 2, 16, 16, device: device);
        left[0, 0] = tensor(-3f, device: device);
        using var leftColours = Draw.FlowToColor(left);
        var cyan = leftColours.At<Vec3b>(8, 8);
        Assert.True(cyan.Item2 < 10 && cyan.Item0 == 255 && cyan.Item1 == 255, $"leftward flow should be cyan, got {cyan}");
    }

    [Fact]
    public void Flow_from_OpenCV_is_drawn_too()
    {
        using var image = TestImages.Read("fruits.jpg");
        using var flow = new Mat(image.Rows, image.Cols, MatType.CV_32FC2, new Scalar(0, 5));   // 5 px down
        using var arrows = Draw.FlowArrows(image, flow, step: 40, color: new Scalar(255, 0, 0));
        AssertNear(new Vec3b(255, 0, 0), arrows.At<Vec3b>(23, 20));
        using var colours = Draw.FlowToColor(flow);
        Assert.Equal(MatType.CV_8UC3, colours.Type());
    }

    [Fact]
    public void Tracks_are_polylines_in_the_colour_of_their_id()
    {
        using var image = TestImages.Read("fruits.jpg");
        var tracks = new Dictionary<int, List<Point2f>>
        {
            [7] = [new(50, 400), new(100, 400), new(150, 380)],
            [12] = [new(300, 100), new(300, 200)],
        };
        using var drawn = Draw.Tracks(image, tracks, thickness: 2, showIds: false);
        AssertNear(Bgr(Palette.Color(7)), drawn.At<Vec3b>(400, 75));
        AssertNear(Bgr(Palette.Color(12)), drawn.At<Vec3b>(150, 300));
        Assert.NotEqual(Palette.Color(7), Palette.Color(12));
        Assert.Equal(0, ChangedIn(image, drawn, new Rect(400, 300, 100, 100)));
        using var withIds = Draw.Tracks(image, tracks, tail: 2);
        Assert.True(ChangedIn(image, withIds, new Rect(155, 365, 30, 30)) > 10, "the id is written beside the last point");
        Assert.Equal(0, ChangedIn(image, withIds, new Rect(45, 395, 30, 10)));    // outside the 2-point tail
    }

    [Fact]
    public void Polygons_and_contours_outline_and_optionally_fill()
    {
        using var image = TestImages.Read("fruits.jpg");
        using var outline = Draw.Polygon(image, [new(100, 100), new(200, 100), new(200, 200), new(100, 200)], thickness: 1);
        AssertNear(Bgr(Palette.Color(0)), outline.At<Vec3b>(100, 150));
        Assert.Equal(0, ChangedIn(image, outline, new Rect(103, 103, 94, 94)));

        using var filled = Draw.Polygon(image, [new(100, 100), new(200, 100), new(200, 200), new(100, 200)], new Scalar(0, 255, 0), fillOpacity: 0.5);
        var inside = filled.At<Vec3b>(150, 150);
        var original = image.At<Vec3b>(150, 150);
        var expected = (int)Math.Round(original.Item1 * 0.5 + 255 * 0.5);
        Assert.InRange((int)inside.Item1, expected - 1, expected + 1);

        Point[][] contours = [[new(300, 300), new(400, 300), new(400, 400), new(300, 400)], [new(20, 20), new(60, 20), new(40, 60)]];
        using var drawn = Draw.Contours(image, contours, thickness: 1);
        AssertNear(Bgr(Palette.Color(0)), drawn.At<Vec3b>(300, 350));
        AssertNear(Bgr(Palette.Color(1)), drawn.At<Vec3b>(20, 40));
        Assert.Equal(0, ChangedIn(image, drawn, new Rect(303, 303, 94, 94)));
    }

    [Fact]
    public void Masks_blend_each_class_in_its_colour_and_leave_background()
    {
        using var image = TestImages.Read("fruits.jpg");
        using var scope = NewDisposeScope();
        var mask = zeros(new long[] { image.Rows, image.Cols }, ScalarType.Int64);
        mask[TensorIndex.Slice(0, 100), TensorIndex.Slice(0, 100)] = tensor(3L);
        using var drawn = Draw.Mask(image, mask, opacity: 1.0);
        Assert.Equal(Bgr(Palette.Color(3)), drawn.At<Vec3b>(50, 50));
        Assert.Equal(0, ChangedIn(image, drawn, new Rect(100, 100, 400, 300)));
    }

    [Fact]
    public void Gray_and_float_inputs_give_an_8_bit_BGR_canvas()
    {
        using var gray = TestImages.Read("sudoku.png", ImreadModes.Grayscale);
        using var drawn = Draw.Boxes(gray, [[10, 10, 50, 50]]);
        Assert.Equal(MatType.CV_8UC3, drawn.Type());
        Assert.Equal(Bgr(Palette.Color(0)), drawn.At<Vec3b>(10, 30));
        using var f = new Mat();
        gray.ConvertTo(f, MatType.CV_32F, 1 / 255.0);
        using var fromFloat = Draw.Canvas(f);
        Assert.Equal(gray.At<byte>(5, 5), fromFloat.At<Vec3b>(5, 5).Item1);
    }

    [Fact]
    public void The_palette_is_deterministic_and_distinct()
    {
        Assert.Equal(new Scalar(180, 119, 31), Palette.Color(0));      // tab10 blue, in BGR
        Assert.Equal("#ff7f0e", Palette.Hex(1));
        var first = Enumerable.Range(0, 40).Select(Palette.Hex).ToList();
        Assert.Equal(first.Count, first.Distinct().Count());
        Assert.Equal(Palette.Color(123), Palette.Color(123));
        Assert.Equal(Palette.Color(5), Palette.Color(-5));
    }
}
