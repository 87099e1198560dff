using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace CvNotebooks.Runner.Kernel;

/// An assembly referenced with `#r "nuget: ..."` is loaded from the NuGet cache, where the runtime has no
/// deps.json telling it where the package's native libraries are (runtimes/linux-x64/native). This resolver
/// is the runtime's fallback: when a DllImport cannot be found the usual way, look in the restored packages.
internal static class NativeProbing
{
    private static readonly ConcurrentDictionary<string, byte> Folders = new();
    private static int _installed;

    public static void Add(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (string.IsNullOrEmpty(path) || !Directory.Exists(path)) continue;
            Folders.TryAdd(path, 0);
            foreach (var rid in RuntimeIds())
            {
                var native = Path.Combine(path, "runtimes", rid, "native");
                if (Directory.Exists(native)) Folders.TryAdd(native, 0);
            }
        }
    }

    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
    }

    private static IntPtr Resolve(Assembly requester, string name)
    {
        foreach (var folder in Folders.Keys)
            foreach (var candidate in Candidates(name))
            {
                var path = Path.Combine(folder, candidate);
                if (File.Exists(path) && NativeLibrary.TryLoad(path, out var handle)) return handle;
            }
        return IntPtr.Zero;
    }

    private static IEnumerable<string> Candidates(string name)
    {
        var file = Path.GetFileName(name);
        if (OperatingSystem.IsWindows())
        {
            yield return file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? file : file + ".dll";
            yield break;
        }
        var ext = OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        yield return "lib" + file + ext;
        yield return file + ext;
        yield return file;
        yield return "lib" + file;
    }

    private static IEnumerable<string> RuntimeIds()
    {
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        if (OperatingSystem.IsLinux()) { yield return $"linux-{arch}"; yield return "linux"; }
        else if (OperatingSystem.IsMacOS()) { yield return $"osx-{arch}"; yield return "osx"; }
        else if (OperatingSystem.IsWindows()) { yield return $"win-{arch}"; yield return "win"; }
        yield return "unix";
    }
}
