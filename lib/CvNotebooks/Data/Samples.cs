using CvNotebooks.Interop;
using OpenCvSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Data;

/// OpenCV's sample images and videos (Debian's opencv-doc, installed by environment/setup.sh and
/// datasets/install.sh), by file name: "fruits.jpg", "vtest.avi", "aloeL.jpg", "digits.png".
public static class Samples
{
    public const string InstallHint = "run `bash environment/setup.sh` from the repository root (it installs Debian's opencv-doc package); or only the data: `bash datasets/install.sh`";

    /// Folders searched in order: $CVNB_SAMPLES, then where Debian's opencv-doc puts OpenCV's sample data
    /// (and its dnn/ class lists). After them, any cataloged file with that name under datasets/data.
    public static IReadOnlyList<string> Folders { get; } =
        new[]
        {
            Environment.GetEnvironmentVariable("CVNB_SAMPLES"),
            "/usr/share/doc/opencv-doc/examples/data",
            "/usr/share/doc/opencv-doc/examples/data/dnn",
        }
        .Where(p => !string.IsNullOrEmpty(p)).Select(p => p!).ToList();

    /// Full path of a sample file such as "fruits.jpg" or "vtest.avi"; a clear error naming the file when absent.
    public static string Path(string name)
    {
        foreach (var folder in Folders)
        {
            var candidate = System.IO.Path.Combine(folder, name);
            if (File.Exists(candidate)) return candidate;
        }
        if (TryCatalog(name) is { } cataloged) return cataloged;
        throw new FileNotFoundException($"OpenCV sample '{name}' was not found in {string.Join(" or ", Folders)}; {InstallHint}.", name);
    }

    public static bool Exists(string name) =>
        Folders.Any(f => File.Exists(System.IO.Path.Combine(f, name))) || TryCatalog(name) is not null;

    /// The sample images the catalog lists (opencv-images), by file name.
    public static IReadOnlyList<string> Names =>
        Catalog.Default.Dataset("opencv-images").Files.Select(f => System.IO.Path.GetFileName(f.Path)).ToList();

    /// A sample image as an 8-bit Mat (BGR by default, as OpenCV reads it). Dispose it (or `using`).
    public static Mat Image(string name, ImreadModes mode = ImreadModes.Color)
    {
        var path = Path(name);
        var mat = Cv2.ImRead(path, mode);
        if (mat.Empty())
        {
            mat.Dispose();
            throw new InvalidDataException($"OpenCV could not decode {path} (corrupt file?); {InstallHint}.");
        }
        return mat;
    }

    /// A sample image as a (1,C,H,W) float32 tensor in [0,1], RGB for colour images, on the device.
    public static Tensor Tensor(string name, Device? device = null, ImreadModes mode = ImreadModes.Color)
    {
        using var mat = Image(name, mode);
        return TensorMat.ToTensor(mat, ChannelOrder.Rgb, device);
    }

    private static string? TryCatalog(string name)
    {
        try
        {
            var catalog = Catalog.Default;
            if (catalog.Find(name) is { } hit)
            {
                var full = catalog.FullPath(hit.File);
                if (File.Exists(full)) return full;
            }
        }
        catch (FileNotFoundException)
        {
            // No catalog (outside the repository): the folders above are all there is.
        }
        return null;
    }
}
