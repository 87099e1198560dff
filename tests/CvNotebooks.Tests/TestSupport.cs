using CvNotebooks.Data;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

/// Devices for [SkippableTheory]: every test runs on the CPU and on CUDA; CUDA cases skip with a reason
/// where no CUDA device is present (as on this project's machines and CI).
public static class TestDevices
{
    public static TheoryData<string> All => new() { "cpu", "cuda" };

    public static Device Get(string name)
    {
        if (name == "cuda")
            Skip.IfNot(cuda.is_available(), "no CUDA device present: this case runs on a machine with a GPU");
        return name == "cuda" ? CUDA : CPU;
    }
}

/// Real images from OpenCV's sample data (Debian's opencv-doc, installed by environment/setup.sh).
public static class TestImages
{
    /// An 8-bit BGR (or gray) Mat; a missing file fails the test with the command that installs it.
    public static Mat Read(string name, ImreadModes mode = ImreadModes.Color)
    {
        var path = Samples.Path(name);
        var mat = Cv2.ImRead(path, mode);
        Assert.False(mat.Empty(), $"OpenCV could not read {path}");
        return mat;
    }

    /// A (1,C,H,W) float tensor in [0,1], RGB for colour images, on the device.
    public static Tensor Tensor(string name, Device device, ImreadModes mode = ImreadModes.Color)
    {
        using var mat = Read(name, mode);
        return TensorMat.ToTensor(mat, ChannelOrder.Rgb, device);
    }

    /// Largest absolute difference between two float Mats of the same size and type.
    public static double MaxAbsDiff(Mat a, Mat b)
    {
        Assert.Equal(a.Size(), b.Size());
        Assert.Equal(a.Type(), b.Type());
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        using var flat = diff.Reshape(1);
        flat.MinMaxLoc(out double _, out double max);
        return max;
    }

    /// Mean absolute difference, for kernels whose border handling or rounding differs on a few pixels.
    public static double MeanAbsDiff(Mat a, Mat b)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        var mean = Cv2.Mean(diff);
        return (mean.Val0 + mean.Val1 + mean.Val2 + mean.Val3) / Math.Max(1, a.Channels());
    }
}
