using OpenCvSharp;

namespace CvNotebooks.Data;

/// A rectified stereo pair with its ground-truth disparity (of the left image). Dispose to free the Mats.
public sealed class StereoPair : IDisposable
{
    public required string Name { get; init; }
    /// Left and right images, 8-bit BGR.
    public required Mat Left { get; init; }
    public required Mat Right { get; init; }
    /// Ground-truth disparity of the left image in pixels, CV_32F; 0 where unknown (occluded or not measured).
    public required Mat Disparity { get; init; }

    public void Dispose()
    {
        Left.Dispose();
        Right.Dispose();
        Disparity.Dispose();
    }
}

/// Two consecutive frames for optical flow. Dispose to free the Mats.
public sealed class FramePair : IDisposable
{
    public required string Name { get; init; }
    public required Mat First { get; init; }
    public required Mat Second { get; init; }

    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
    }
}

/// Two views of a plane and the true homography mapping points of the first into the second.
public sealed class HomographyPair : IDisposable
{
    public required Mat First { get; init; }
    public required Mat Second { get; init; }
    /// 3x3, CV_64F: second ~ H * first (homogeneous pixel coordinates).
    public required Mat H { get; init; }

    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
        H.Dispose();
    }
}

/// A chessboard calibration set: image paths (read them one at a time) and the board's inner-corner count.
public sealed record CalibrationSet(IReadOnlyList<string> Left, IReadOnlyList<string> Right, Size PatternSize)
{
    /// Reads one image as 8-bit gray.
    public static Mat Read(string path)
    {
        var mat = Cv2.ImRead(path, ImreadModes.Grayscale);
        if (mat.Empty())
        {
            mat.Dispose();
            throw new InvalidDataException($"OpenCV could not decode {path}; {Catalog.InstallHint}.");
        }
        return mat;
    }
}

/// The image sets of OpenCV's sample data, through the catalog (a missing file names the file and the fix).
public static class ImageSets
{
    /// Middlebury's Aloe pair (1282x1110) with aloeGT.png, the left image's disparity in pixels (0 = unknown).
    public static StereoPair Aloe()
    {
        var c = Catalog.Default;
        using var gt = Read(c.File("opencv-stereo", "aloeGT.png"), ImreadModes.Grayscale);
        var disparity = new Mat();
        gt.ConvertTo(disparity, MatType.CV_32F);
        return new StereoPair
        {
            Name = "aloe",
            Left = Read(c.File("opencv-stereo", "aloeL.jpg")),
            Right = Read(c.File("opencv-stereo", "aloeR.jpg")),
            Disparity = disparity,
        };
    }

    /// OpenCV's stereo chessboard set: 13 left and 13 right 640x480 gray views (left01..left14 without 10)
    /// of a board with 9x6 inner corners, in matching order.
    public static CalibrationSet Chessboard()
    {
        var c = Catalog.Default;
        var ds = c.Dataset("opencv-calibration");
        List<string> Side(string prefix) => ds.Files
            .Select(f => System.IO.Path.GetFileName(f.Path))
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".jpg", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => c.File("opencv-calibration", n))
            .ToList();
        return new CalibrationSet(Side("left"), Side("right"), new Size(9, 6));
    }

    /// Optical-flow pairs: "basketball" (640x480 gray) or "rubberwhale" (584x388 colour, Middlebury).
    public static FramePair Flow(string name = "rubberwhale")
    {
        if (name is not ("basketball" or "rubberwhale"))
            throw new ArgumentException($"flow pairs are \"basketball\" and \"rubberwhale\"; got \"{name}\"", nameof(name));
        var c = Catalog.Default;
        return new FramePair
        {
            Name = name,
            First = Read(c.File("opencv-flow", $"{name}1.png")),
            Second = Read(c.File("opencv-flow", $"{name}2.png")),
        };
    }

    /// The Graffiti pair graf1/graf3 (800x640) and their true homography H1to3p.
    public static HomographyPair Graffiti()
    {
        var c = Catalog.Default;
        using var fs = new FileStorage(c.File("opencv-homography", "H1to3p.xml"), FileStorage.Modes.Read);
        using var node = fs["H13"] ?? throw new InvalidDataException("H1to3p.xml has no H13 matrix");
        var h = node.ReadMat();
        return new HomographyPair
        {
            First = Read(c.File("opencv-homography", "graf1.png")),
            Second = Read(c.File("opencv-homography", "graf3.png")),
            H = h,
        };
    }

    internal static Mat Read(string path, ImreadModes mode = ImreadModes.Color)
    {
        var mat = Cv2.ImRead(path, mode);
        if (mat.Empty())
        {
            mat.Dispose();
            throw new InvalidDataException($"OpenCV could not decode {path} (corrupt file?); {Catalog.InstallHint}.");
        }
        return mat;
    }
}
