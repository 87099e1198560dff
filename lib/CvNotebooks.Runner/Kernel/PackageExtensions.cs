using System.Collections.Concurrent;

namespace CvNotebooks.Runner.Kernel;

/// NuGet packages can extend the .NET Interactive kernel with `interactive-extensions/dotnet/extension.dib`, a
/// script the dotnet-interactive tool runs once when the package is loaded (e.g. to register formatters). The
/// kernel packages we host do not include that loader (it lives in the tool), so the worker does the same.
internal static class PackageExtensions
{
    private static readonly ConcurrentQueue<string> Pending = new();
    private static readonly ConcurrentDictionary<string, byte> Loaded = new();

    public static void Found(IEnumerable<string> packageRoots)
    {
        foreach (var root in packageRoots)
        {
            if (string.IsNullOrEmpty(root)) continue;
            var script = Path.Combine(root, "interactive-extensions", "dotnet", "extension.dib");
            if (File.Exists(script) && Loaded.TryAdd(Path.GetFullPath(script), 0))
                Pending.Enqueue(File.ReadAllText(script));
        }
    }

    public static string? Next() => Pending.TryDequeue(out var script) ? script : null;
}
