using CvNotebooks.Interop;
using CvNotebooks.Morphology;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
// Inside namespace CvNotebooks.Tests the simple name Morphology means the namespace CvNotebooks.Morphology.
using Morph = CvNotebooks.Morphology.Morphology;

namespace CvNotebooks.Tests;

/// Morphology against cv::erode, cv::dilate and cv::morphologyEx on float images made from 8-bit photos:
/// minimums and maximums pick one of the input values, so the results must be identical (max abs diff 0).
public class MorphologyTests
{
    public static TheoryData<string, string> DevicesAndElements()
    {
        var data = new TheoryData<string, string>();
        foreach (var device in new[] { "cpu", "cuda" })
            foreach (var element in new[] { "rect3", "rect5", "ellipse7", "cross5", "rect4x6", "ellipse5x9", "ring5" })
                data.Add(device, element);
        return data;
    }

    /// The elements under test: OpenCV's shapes, one with even sides (anchor off-centre), and a hand-made ring
    /// (its centre is not part of the element, so the pixel itself does not take part).
    private static bool[,] Named(string name) => name switch
    {
        "rect3" => Element.Rect(3),
        "rect5" => Element.Rect(5),
        "ellipse7" => Element.Ellipse(7),
        "cross5" => Element.Cross(5),
        "rect4x6" => Element.Rect(4, 6),
        "ellipse5x9" => Element.Ellipse(5, 9),
        "ring5" => Ring(5),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static bool[,] Ring(int size)
    {
        var e = Element.Ellipse(size);
        e[size / 2, size / 2] = false;
        e[size / 2 - 1, size / 2] = false;
        return e;
    }

    private static Mat Kernel(bool[,] element)
    {
        int kh = element.GetLength(0), kw = element.GetLength(1);
        var mat = new Mat(kh, kw, MatType.CV_8UC1, OpenCvSharp.Scalar.All(0));
        for (var i = 0; i < kh; i++)
            for (var j = 0; j < kw; j++)
                if (element[i, j]) mat.Set(i, j, (byte)1);
        return mat;
    }

    /// A real photo, downscaled to `width` columns (INTER_AREA) to keep the tests fast, as (1,C,H,W) in [0,1].
    internal static Tensor Load(string name, Device device, int width, ImreadModes mode = ImreadModes.Color)
    {
        using var mat = TestImages.Read(name, mode);
        using var small = new Mat();
        Cv2.Resize(mat, small, new OpenCvSharp.Size(width, (int)Math.Round(mat.Rows * (double)width / mat.Cols)), interpolation: InterpolationFlags.Area);
        return TensorMat.ToTensor(small, ChannelOrder.Rgb, device);
    }

    [Theory, Trait("Category", "Reference")]
    [InlineData(MorphShapes.Rect), InlineData(MorphShapes.Ellipse), InlineData(MorphShapes.Cross)]
    public void Elements_match_GetStructuringElement_for_every_size(MorphShapes shape)
    {
        for (var h = 1; h <= 15; h++)
            for (var w = 1; w <= 15; w++)
            {
                var ours = shape switch
                {
                    MorphShapes.Rect => Element.Rect(h, w),
                    MorphShapes.Ellipse => Element.Ellipse(h, w),
                    _ => Element.Cross(h, w),
                };
                using var cv = Cv2.GetStructuringElement(shape, new OpenCvSharp.Size(w, h));
                using var mine = Kernel(ours);
                Assert.True(Cv2.CountNonZero(cv) > 0);
                Assert.Equal(0, TestImages.MaxAbsDiff(cv, mine));
            }
    }

    [SkippableTheory, MemberData(nameof(DevicesAndElements)), Trait("Category", "Reference")]
    public void Erode_and_dilate_equal_OpenCV_exactly(string deviceName, string elementName)
    {
        var device = TestDevices.Get(deviceName);
        var element = Named(elementName);
        using var scope = NewDisposeScope();
        var image = Load("fruits.jpg", device, 320);
        using var src = TensorMat.ToFloatMat(image);
        using var kernel = Kernel(element);

        var eroded = Morph.Erode(image, element);
        var dilated = Morph.Dilate(image, element);
        Assert.Equal(device.type, eroded.device.type);
        Assert.Equal(image.shape, eroded.shape);

        using var cvEroded = new Mat();
        using var cvDilated = new Mat();
        Cv2.Erode(src, cvEroded, kernel);
        Cv2.Dilate(src, cvDilated, kernel);
        using var ours1 = TensorMat.ToFloatMat(eroded);
        using var ours2 = TensorMat.ToFloatMat(dilated);
        Assert.Equal(0, TestImages.MaxAbsDiff(cvEroded, ours1));
        Assert.Equal(0, TestImages.MaxAbsDiff(cvDilated, ours2));
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices)), Trait("Category", "Reference")]
    public void Iterations_equal_OpenCV_exactly(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var image = Load("baboon.jpg", device, 256, ImreadModes.Grayscale);
        using var src = TensorMat.ToFloatMat(image);
        foreach (var element in new[] { Element.Rect(3), Element.Rect(2, 4), Element.Rect(1, 5), Element.Rect(5, 1), Element.Ellipse(5), Element.Cross(3) })
        {
            using var kernel = Kernel(element);
            using var cvEroded = new Mat();
            using var cvDilated = new Mat();
            Cv2.Erode(src, cvEroded, kernel, iterations: 3);
            Cv2.Dilate(src, cvDilated, kernel, iterations: 2);
            using var ours1 = TensorMat.ToFloatMat(Morph.Erode(image, element, iterations: 3));
            using var ours2 = TensorMat.ToFloatMat(Morph.Dilate(image, element, iterations: 2));
            Assert.Equal(0, TestImages.MaxAbsDiff(cvEroded, ours1));
            Assert.Equal(0, TestImages.MaxAbsDiff(cvDilated, ours2));
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices)), Trait("Category", "Reference")]
    public void Opening_closing_gradient_and_hats_equal_morphologyEx_exactly(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var sudoku = Load("sudoku.png", device, 280, ImreadModes.Grayscale);
        var building = Load("building.jpg", device, 240);
        foreach (var image in new[] { sudoku, building })
        {
            using var src = TensorMat.ToFloatMat(image);
            foreach (var (element, iterations) in new[] { (Element.Rect(5), 1), (Element.Ellipse(7), 1), (Element.Cross(3), 2) })
            {
                using var kernel = Kernel(element);
                var ours = new (MorphTypes Op, Tensor Result)[]
                {
                    (MorphTypes.Open, Morph.Open(image, element, iterations)),
                    (MorphTypes.Close, Morph.Close(image, element, iterations)),
                    (MorphTypes.Gradient, Morph.Gradient(image, element, iterations)),
                    (MorphTypes.TopHat, Morph.TopHat(image, element, iterations)),
                    (MorphTypes.BlackHat, Morph.BlackHat(image, element, iterations)),
                };
                foreach (var (op, result) in ours)
                {
                    using var cv = new Mat();
                    Cv2.MorphologyEx(src, cv, op, kernel, iterations: iterations);
                    using var mine = TensorMat.ToFloatMat(result);
                    Assert.True(TestImages.MaxAbsDiff(cv, mine) == 0, $"{op} with a {element.GetLength(0)}x{element.GetLength(1)} element differs from OpenCV");
                }
            }
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Tensor_elements_batches_and_the_default_element_agree(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var a = Load("left01.jpg", device, 160, ImreadModes.Grayscale);
        var batch = cat([a, a.flip(3)], 0);
        var ellipse = Element.Ellipse(5);
        var asTensor = Element.ToTensor(ellipse, device);
        Assert.True(Same(Morph.Erode(batch, ellipse), Morph.Erode(batch, asTensor)));
        Assert.True(Same(Morph.Erode(batch, Element.Rect(3)), Morph.Erode(batch)));
        var whole = Morph.Dilate(batch, ellipse);
        Assert.True(Same(whole[1].unsqueeze(0), Morph.Dilate(batch[1].unsqueeze(0), ellipse)));
        // A 1x1 element is the identity and returns a new tensor, never the input itself.
        var same = Morph.Erode(batch, Element.Rect(1));
        Assert.True(Same(same, batch));
        same.add_(1);
        Assert.False(Same(same, batch));
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Bad_input_is_rejected_with_a_reason()
    {
        using var scope = NewDisposeScope();
        var image = rand(1, 1, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => Morph.Erode(rand(8, 8)));
        Assert.Contains("(B,C,H,W)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Morph.Dilate(zeros(new long[] { 1, 1, 8, 8 }, ScalarType.Byte)));
        Assert.Contains("float32", e.Message);
        e = Assert.Throws<ArgumentException>(() => Morph.Erode(image, new bool[3, 3]));
        Assert.Contains("no pixel set", e.Message);
        Assert.Equal("element", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Morph.Erode(image, new bool[0, 3]));
        Assert.Contains("empty", e.Message);
        e = Assert.Throws<ArgumentException>(() => Morph.Erode(image, ones(1, 3, 3)));
        Assert.Contains("(rows, cols)", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => Morph.Open(image, Element.Rect(3), iterations: 0));
        Assert.Equal("iterations", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Element.Ellipse(0));
        Assert.Contains("at least 1", r.Message);
    }
}
