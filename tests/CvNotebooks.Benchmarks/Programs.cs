using System.Diagnostics;
using System.Text;

namespace CvNotebooks.Benchmarks;

/// Where the two programs under comparison are, and how to start them.
/// Both are ProjectReferences, so a build of this project puts cvnb (apphost + cvnb.dll) and cvnb-floor beside it.
/// CVNB_BENCH_RUNNER_DIR points the benchmarks at another build of the runner (e.g. a ReadyToRun publish);
/// CVNB_BENCH_RUNNER_ENV="NAME=VALUE;NAME=VALUE" adds environment variables to every cvnb and worker process
/// (not to this host, not to the floor), e.g. DOTNET_TieredPGO=0.
internal static class Programs
{
    public static string RunnerDirectory =>
        Environment.GetEnvironmentVariable("CVNB_BENCH_RUNNER_DIR") is { Length: > 0 } dir ? Path.GetFullPath(dir) : AppContext.BaseDirectory;

    public static string FloorDirectory => AppContext.BaseDirectory;

    /// `cvnb ARGS`, started the way a user starts it: through its apphost when there is one.
    public static ProcessStartInfo Cvnb(params string[] args)
    {
        var info = Info(RunnerDirectory, "cvnb", args);
        foreach (var (k, v) in RunnerEnvironment) info.Environment[k] = v;
        return info;
    }

    public static IEnumerable<(string Name, string Value)> RunnerEnvironment =>
        (Environment.GetEnvironmentVariable("CVNB_BENCH_RUNNER_ENV") ?? "")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(kv => kv.Contains('='))
            .Select(kv => (kv[..kv.IndexOf('=')], kv[(kv.IndexOf('=') + 1)..]));

    public static ProcessStartInfo Floor(params string[] args) => Info(FloorDirectory, "cvnb-floor", args);

    /// The worker exactly as WorkerClient.Start starts it: `cvnb worker` with the same environment.
    public static ProcessStartInfo Worker(string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = Cvnb("worker");
        info.WorkingDirectory = workingDirectory;
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        info.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return info;
    }

    private static ProcessStartInfo Info(string directory, string name, string[] args)
    {
        var apphost = Path.Combine(directory, name);
        var dll = Path.Combine(directory, name + ".dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: build the benchmarks with `dotnet build -c Release` (the runner and the floor are ProjectReferences)");
        var info = new ProcessStartInfo(File.Exists(apphost) ? apphost : "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (!File.Exists(apphost)) info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    /// Start, read stdout and stderr to the end, wait for the exit; throw unless the exit code is 0.
    /// The CPU time of the process tree is recorded under (type, method) for CpuColumn.
    public static string RunToExit(ProcessStartInfo info, string type, string method)
    {
        var cpu = CpuTime.ChildrenMilliseconds();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        CpuTime.Record(type, method, null, CpuTime.ChildrenMilliseconds() - cpu);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{info.FileName} {string.Join(' ', info.ArgumentList)} exited with {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        return stdout;
    }
}
