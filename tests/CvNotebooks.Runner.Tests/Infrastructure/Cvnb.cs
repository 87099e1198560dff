using System.Diagnostics;
using System.Text;
using Xunit;

namespace CvNotebooks.Runner.Tests.Infrastructure;

/// What one `cvnb` command did, as a user would see it in a terminal.
public sealed record CvnbRun(string[] Args, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"cvnb {string.Join(' ', Args)}\nexit code {ExitCode} after {Elapsed.TotalSeconds:0.0} s\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    /// Asserts the exit code and shows the whole conversation when it is not the expected one.
    public CvnbRun ExpectExit(int code)
    {
        Assert.True(ExitCode == code, $"expected exit code {code}:\n{this}");
        return this;
    }
}

/// Runs the runner exactly as a user would: `dotnet cvnb.dll ARGS` as a child process in a working directory.
/// cvnb.dll is in the test output folder because the test project references the runner project.
public static class Cvnb
{
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "cvnb.dll");

    /// A generous ceiling for one command, so a runner that hangs fails the test instead of the whole job.
    private static readonly TimeSpan Ceiling = TimeSpan.FromMinutes(5);

    public static CvnbRun Run(string workingDirectory, params string[] args) => RunAsync(workingDirectory, args).GetAwaiter().GetResult();

    public static async Task<CvnbRun> RunAsync(string workingDirectory, params string[] args)
    {
        Assert.True(File.Exists(Dll), $"cvnb.dll is not in the test output folder ({Dll}); build the solution first");
        var info = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        // Plain progress lines (as in CI), English messages.
        info.Environment["CI"] = "true";
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        info.Environment["DOTNET_NOLOGO"] = "1";

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(Ceiling);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"cvnb {string.Join(' ', args)} did not finish within {Ceiling.TotalMinutes} minutes; killed.\n{await stdout}\n{await stderr}");
        }
        var run = new CvnbRun(args, process.ExitCode, await stdout, await stderr, clock.Elapsed);
        return run;
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
