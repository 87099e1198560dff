namespace CvNotebooks.Runner.Tests.Infrastructure;

/// Processes whose working directory is inside a folder: a worker runs in its notebook's folder, so any left
/// after cvnb exited would be a kernel the runner failed to stop.
public static class Processes
{
    public static IReadOnlyList<string> WorkingIn(string root)
    {
        var found = new List<string>();
        if (!OperatingSystem.IsLinux()) return found;
        var prefix = Path.GetFullPath(root).TrimEnd('/');
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(dir);
            if (!pid.All(char.IsAsciiDigit)) continue;
            try
            {
                var cwd = File.ResolveLinkTarget(Path.Combine(dir, "cwd"), returnFinalTarget: false)?.FullName;
                if (cwd is null || !(cwd == prefix || cwd.StartsWith(prefix + "/", StringComparison.Ordinal))) continue;
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                found.Add($"{pid}: {cmdline}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return found;
    }

    /// Waits (a few seconds at most: a killed process takes a moment to disappear) until none is left.
    public static IReadOnlyList<string> LeftIn(string root)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var left = WorkingIn(root);
            if (left.Count == 0 || DateTime.UtcNow > deadline) return left;
            Thread.Sleep(100);
        }
    }
}
