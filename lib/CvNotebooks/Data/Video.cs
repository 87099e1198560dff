using OpenCvSharp;

namespace CvNotebooks.Data;

/// Size, length and rate of a video file.
public sealed record VideoInfo(string Path, int Width, int Height, int FrameCount, double Fps);

/// Video frames as a stream, read with OpenCV's VideoCapture.
public static class Video
{
    /// The path of a video: a sample name ("vtest.avi", "Megamind.avi", "tree.avi") or a file path.
    public static string Resolve(string nameOrPath) =>
        File.Exists(nameOrPath) ? nameOrPath : Samples.Path(nameOrPath);

    public static VideoInfo Info(string nameOrPath)
    {
        var path = Resolve(nameOrPath);
        using var capture = Open(path);
        return new VideoInfo(path, capture.FrameWidth, capture.FrameHeight, capture.FrameCount, capture.Fps);
    }

    /// One frame (0-based index) as an 8-bit BGR Mat that the caller owns (dispose it).
    public static Mat Frame(string nameOrPath, int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var path = Resolve(nameOrPath);
        using var capture = Open(path);
        var frame = new Mat();
        for (var i = 0; i <= index; i++)
        {
            if (!capture.Read(frame) || frame.Empty())
            {
                frame.Dispose();
                throw new ArgumentOutOfRangeException(nameof(index), index, $"{path} has only {i} frames");
            }
        }
        return frame;
    }

    /// The frames of a video, one 8-bit BGR Mat at a time: `start` frames are skipped, then every `step`-th
    /// frame is yielded, at most `maxFrames` of them.
    /// Ownership: each Mat is disposed when the loop moves to the next frame (or ends), so a `foreach` never
    /// leaks native memory; call `frame.Clone()` to keep one. LINQ that keeps frames (First, ToList) therefore gets
    /// disposed Mats: use <see cref="Frame"/> for one frame, or `.Select(f => f.Clone())`.
    public static IEnumerable<Mat> Frames(string nameOrPath, int? maxFrames = null, int step = 1, int start = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if (maxFrames is < 0) throw new ArgumentOutOfRangeException(nameof(maxFrames), maxFrames, "maxFrames must be 0 or more");
        var path = Resolve(nameOrPath);
        return Iterate(path, maxFrames, step, start);
    }

    private static IEnumerable<Mat> Iterate(string path, int? maxFrames, int step, int start)
    {
        using var capture = Open(path);
        var index = 0;
        var yielded = 0;
        while (maxFrames is null || yielded < maxFrames)
        {
            var frame = new Mat();
            try
            {
                if (!capture.Read(frame) || frame.Empty()) yield break;
                if (index++ < start || (index - 1 - start) % step != 0) continue;
                yielded++;
                yield return frame;
            }
            finally
            {
                frame.Dispose();
            }
        }
    }

    private static VideoCapture Open(string path)
    {
        var capture = new VideoCapture(path);
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new InvalidDataException($"OpenCV could not open the video {path} (corrupt file or missing codec); {Samples.InstallHint}.");
        }
        return capture;
    }
}
