using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
// Inside namespace CvNotebooks.Tests the simple name Histograms means the namespace CvNotebooks.Histograms.
using Hist = CvNotebooks.Histograms.Histograms;

namespace CvNotebooks.Tests;

/// Histograms against cv::calcHist, cv::equalizeHist and cv::CLAHE on 8-bit images (our input is the same image as
/// floats k/255). Counting is integer work and the tables use OpenCV's float32 arithmetic, so we expect identical
/// results; the tolerances asked of the library are stated per test and the measured difference is printed on failure.
public class HistogramTests
{
    /// A grey sample, downscaled (INTER_AREA) to `maxWidth` columns if wider (chessboard.png is 3595x3723).
    private static Mat Gray(string name, int maxWidth = 800)
    {
        var mat = TestImages.Read(name, ImreadModes.Grayscale);
        if (mat.Cols <= maxWidth) return mat;
        var w = maxWidth;
        var small = new Mat();
        Cv2.Resize(mat, small, new OpenCvSharp.Size(w, (int)Math.Round(mat.Rows * (double)w / mat.Cols)), interpolation: InterpolationFlags.Area);
        mat.Dispose();
        return small;
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices)), Trait("Category", "Reference")]
    public void Histogram_counts_equal_calcHist_exactly(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var bgr = TestImages.Read("fruits.jpg");
        using var scope = NewDisposeScope();
        // Keep OpenCV's channel order so channel c of the tensor is channel c of the Mat.
        var image = TensorMat.ToTensor(bgr, ChannelOrder.Bgr, device);
        foreach (var bins in new[] { 256, 64, 100, 7, 1 })
        {
            var hist = Hist.Histogram(image, bins);
            Assert.Equal(new long[] { 1, 3, bins }, hist.shape);
            Assert.Equal(ScalarType.Int64, hist.dtype);
            Assert.Equal(device.type, hist.device.type);
            var ours = hist.cpu().data<long>().ToArray();
            for (var c = 0; c < 3; c++)
            {
                using var cv = new Mat();
                Cv2.CalcHist([bgr], [c], null, cv, 1, [bins], [new Rangef(0, 256)]);
                for (var i = 0; i < bins; i++)
                    Assert.True(cv.At<float>(i) == ours[c * bins + i], $"bins={bins} channel {c} bin {i}: OpenCV {cv.At<float>(i)}, ours {ours[c * bins + i]}");
            }
            Assert.True(hist.sum(-1).eq(bgr.Rows * bgr.Cols).all().item<bool>());
        }
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Histogram_of_a_batch_is_the_histograms_of_its_images(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var a = TestImages.Tensor("left01.jpg", device, ImreadModes.Grayscale);
        var b = TestImages.Tensor("left02.jpg", device, ImreadModes.Grayscale);
        var both = Hist.Histogram(cat([a, b], 0), 32);
        Assert.True(both[0].eq(Hist.Histogram(a, 32)[0]).all().item<bool>());
        Assert.True(both[1].eq(Hist.Histogram(b, 32)[0]).all().item<bool>());
        Assert.False(both[0].eq(both[1]).all().item<bool>());
    }

    /// Tolerance asked: max abs diff <= 1/255. Expected and seen: 0 (same integer counts, same float32 table).
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices)), Trait("Category", "Reference")]
    public void EqualizeHist_equals_OpenCV_on_8bit_gray(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var name in new[] { "sudoku.png", "building.jpg", "baboon.jpg", "left01.jpg", "chessboard.png" })
        {
            using var gray = Gray(name);
            using var scope = NewDisposeScope();
            var image = TensorMat.ToTensor(gray, device: device);
            var ours = Hist.EqualizeHist(image);
            Assert.Equal(device.type, ours.device.type);
            using var cv = new Mat();
            Cv2.EqualizeHist(gray, cv);
            using var mine = TensorMat.ToMat(ours);
            var max = TestImages.MaxAbsDiff(cv, mine);
            Assert.True(max <= 1, $"{name}: max abs diff {max}/255 from cv::equalizeHist");
        }
    }

    [Fact]
    public void EqualizeHist_leaves_a_one_level_image_alone_and_treats_channels_apart()
    {
        using var scope = NewDisposeScope();
        var flat = full(new long[] { 1, 1, 5, 7 }, 77 / 255f);
        Assert.True(Hist.EqualizeHist(flat).eq(flat).all().item<bool>());
        using var gray = Gray("sudoku.png", 200);
        var g = TensorMat.ToTensor(gray);
        var two = cat([g, g.mul(0.5f)], 1);
        var eq = Hist.EqualizeHist(two);
        Assert.True(eq.narrow(1, 0, 1).eq(Hist.EqualizeHist(g)).all().item<bool>());
        Assert.True(eq.narrow(1, 1, 1).eq(Hist.EqualizeHist(g.mul(0.5f))).all().item<bool>());
    }

    public static TheoryData<string, string, double, int, int> ClaheCases()
    {
        var data = new TheoryData<string, string, double, int, int>();
        foreach (var device in new[] { "cpu", "cuda" })
        {
            data.Add(device, "sudoku.png", 40.0, 8, 8);     // OpenCV's defaults
            data.Add(device, "building.jpg", 2.0, 8, 8);    // the usual setting for photos
            data.Add(device, "baboon.jpg", 4.0, 5, 7);      // 512x512 into 5x7 tiles: the image is extended to find tiles
            data.Add(device, "left01.jpg", 0.0, 4, 4);      // no clipping
            data.Add(device, "chessboard.png", 1.0, 3, 16); // tiny limit: most counts redistributed
        }
        return data;
    }

    /// Tolerance asked: mean abs diff <= 1/255 and max <= 2/255. Expected and seen: 0.
    [SkippableTheory, MemberData(nameof(ClaheCases)), Trait("Category", "Reference")]
    public void Clahe_equals_OpenCV_on_8bit_gray(string deviceName, string name, double clipLimit, int tileRows, int tileCols)
    {
        var device = TestDevices.Get(deviceName);
        using var gray = Gray(name);
        using var scope = NewDisposeScope();
        var image = TensorMat.ToTensor(gray, device: device);
        var ours = Hist.Clahe(image, clipLimit, tileRows, tileCols);
        Assert.Equal(image.shape, ours.shape);
        Assert.Equal(device.type, ours.device.type);
        using var clahe = Cv2.CreateCLAHE(clipLimit, new OpenCvSharp.Size(tileCols, tileRows));
        using var cv = new Mat();
        clahe.Apply(gray, cv);
        using var mine = TensorMat.ToMat(ours);
        var max = TestImages.MaxAbsDiff(cv, mine);
        var mean = TestImages.MeanAbsDiff(cv, mine);
        Assert.True(mean <= 1 && max <= 2, $"{name}: mean abs diff {mean:F4}/255, max {max}/255 from cv::CLAHE");
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Clahe_on_a_batch_is_clahe_of_each_image(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var a = TestImages.Tensor("left01.jpg", device, ImreadModes.Grayscale);
        var b = TestImages.Tensor("left02.jpg", device, ImreadModes.Grayscale);
        var both = Hist.Clahe(cat([a, b], 0), 2.0, 6);
        Assert.True(both.narrow(0, 0, 1).eq(Hist.Clahe(a, 2.0, 6)).all().item<bool>());
        Assert.True(both.narrow(0, 1, 1).eq(Hist.Clahe(b, 2.0, 6)).all().item<bool>());
    }

    [Fact]
    public void Bad_input_is_rejected_with_a_reason()
    {
        using var scope = NewDisposeScope();
        var image = rand(1, 1, 16, 16);
        var e = Assert.Throws<ArgumentException>(() => Hist.Histogram(rand(16, 16)));
        Assert.Contains("(B,C,H,W)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Hist.EqualizeHist(zeros(new long[] { 1, 1, 4, 4 }, ScalarType.Byte)));
        Assert.Contains("float32", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => Hist.Histogram(image, 0));
        Assert.Equal("bins", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Hist.Histogram(image, 257));
        Assert.Contains("256", r.Message);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Hist.Clahe(image, -1));
        Assert.Equal("clipLimit", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Hist.Clahe(image, double.NaN));
        Assert.Equal("clipLimit", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Hist.Clahe(image, 2, 0, 8));
        Assert.Equal("tileRows", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => Hist.Clahe(image, 2, 8, -3));
        Assert.Equal("tileCols", r.ParamName);
    }
}
