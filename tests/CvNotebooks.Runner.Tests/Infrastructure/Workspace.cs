using System.Security.Cryptography;

namespace CvNotebooks.Runner.Tests.Infrastructure;

/// A temporary folder holding copies of fixture notebooks, where cvnb runs as a child process.
public sealed class Workspace : IDisposable
{
    public static string FixturesDir { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "cvnb-tests-" + Guid.NewGuid().ToString("N")[..12]);

    public Workspace() => Directory.CreateDirectory(Root);

    /// Copies a fixture into the workspace (optionally under a relative path) and returns the relative path.
    public string Add(string fixture, string? relativeTarget = null)
    {
        var source = Path.Combine(FixturesDir, fixture);
        if (!File.Exists(source)) throw new FileNotFoundException($"fixture {fixture} is missing from {FixturesDir}");
        var target = relativeTarget ?? fixture;
        var full = PathOf(target);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.Copy(source, full, overwrite: true);
        return target;
    }

    /// Copies any file (e.g. an assembly a notebook references by path) into the workspace.
    public void AddFile(string sourcePath, string relativeTarget)
    {
        var full = PathOf(relativeTarget);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.Copy(sourcePath, full, overwrite: true);
    }

    public string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public bool Exists(string relative) => File.Exists(PathOf(relative)) || Directory.Exists(PathOf(relative));

    public string Read(string relative) => File.ReadAllText(PathOf(relative));

    public string Hash(string relative) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(PathOf(relative))));

    /// Hashes of every file under a folder of the workspace, keyed by relative path.
    public Dictionary<string, string> Hashes(params string[] relatives) => relatives.ToDictionary(r => r, Hash);

    public IReadOnlyList<string> Files(string pattern = "*") =>
        Directory.EnumerateFiles(Root, pattern, SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();

    public CvnbRun Cvnb(params string[] args) => Infrastructure.Cvnb.Run(Root, args);

    public void Dispose()
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
                return;
            }
            catch (IOException) { Thread.Sleep(200); }
            catch (UnauthorizedAccessException) { Thread.Sleep(200); }
        }
    }
}
