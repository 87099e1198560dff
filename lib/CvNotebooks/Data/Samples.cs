namespace CvNotebooks.Data;

/// OpenCV's sample images and videos, installed from Debian's opencv-doc package by environment/setup.sh.
public static class Samples
{
    public const string InstallHint = "run `bash environment/setup.sh` from the repository root (it installs Debian's opencv-doc package)";

    /// Folders searched in order: $CVNB_SAMPLES, then where Debian's opencv-doc puts OpenCV's sample data.
    public static IReadOnlyList<string> Folders { get; } =
        new[] { Environment.GetEnvironmentVariable("CVNB_SAMPLES"), "/usr/share/doc/opencv-doc/examples/data" }
            .Where(p => !string.IsNullOrEmpty(p)).Select(p => p!).ToList();

    /// Full path of a sample file such as "fruits.jpg" or "vtest.avi"; a clear error naming the file when absent.
    public static string Path(string name)
    {
        foreach (var folder in Folders)
        {
            var candidate = System.IO.Path.Combine(folder, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"OpenCV sample '{name}' was not found in {string.Join(" or ", Folders)}; {InstallHint}.", name);
    }

    public static bool Exists(string name) => Folders.Any(f => File.Exists(System.IO.Path.Combine(f, name)));
}
