using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using CvNotebooks.Runner.Kernel;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.PackageManagement;
using Microsoft.DotNet.Interactive.Events;

namespace CvNotebooks.Benchmarks;

/// Where a worker's cold start goes, outside BenchmarkDotNet (a profile, not a benchmark):
///   probe kernel [overlap]                      in this fresh process, what WorkerHost.RunAsync does before the
///                                               first output: create the kernel (WorkerHost.CreateKernel), run
///                                               `Console.WriteLine("hi");`, then a second cell; prints each phase's
///                                               wall time and the JIT time spent in it (System.Runtime.JitInfo).
///                                               `overlap`: compile a throwaway C# script on a second thread while
///                                               the kernel is created (does warming Roslyn early pay on 2 cores?)
///   probe kernel steps                          the same with the kernel's creation split into its steps
///   probe repeat N [overlap|steps] [NAME=VALUE...]    `probe kernel` in N fresh processes with those environment
///                                               variables; prints the median of every phase.
internal static class Probe
{
    public static int Run(string[] args)
    {
        if (args.Length >= 1 && args[0] == "kernel") return Kernel(args.Contains("overlap"), args.Contains("steps"));
        if (args.Length >= 2 && args[0] == "repeat") return Repeat(int.Parse(args[1], CultureInfo.InvariantCulture), args[2..]);
        Console.Error.WriteLine("usage: probe kernel [overlap] | probe repeat N [overlap] [NAME=VALUE...]");
        return 2;
    }

    private static int Kernel(bool overlap, bool steps)
    {
        var started = Process.GetCurrentProcess().StartTime;
        var phases = new List<string>();
        var lastWall = 0.0;
        var lastJit = TimeSpan.Zero;
        void Mark(string phase)
        {
            var wall = (DateTime.Now - started).TotalMilliseconds;
            var jit = JitInfo.GetCompilationTime();
            phases.Add(FormattableString.Invariant($"{phase}={wall - lastWall:0}/{(jit - lastJit).TotalMilliseconds:0}"));
            lastWall = wall;
            lastJit = jit;
        }
        Mark("runtime-to-main");
        var warm = overlap
            ? Task.Run(() => CSharpScript.Create("var warm = 1 + 1; System.Console.Write(\"\");", ScriptOptions.Default).Compile())
            : Task.CompletedTask;
        using var kernel = steps ? CreateKernelInSteps(Mark) : WorkerHost.CreateKernel();
        Mark("create-kernel");
        warm.Wait();
        Mark("wait-warmup");
        Submit(kernel, "Console.WriteLine(\"hi\");");
        Mark("first-cell");
        Submit(kernel, "var x = 1; x = x + 1;");
        Mark("second-cell");
        Submit(kernel, "x = x + 1;");
        Mark("third-cell");
        if (Environment.GetEnvironmentVariable("CVNB_PROBE_ASSEMBLIES") == "1")
            foreach (var a in AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).Order()) Console.WriteLine($"loaded {a}");
        Console.WriteLine($"PROBE {string.Join(' ', phases)} total={lastWall:0}/{lastJit.TotalMilliseconds:0} jitted-methods={JitInfo.GetCompiledMethodCount()} assemblies={AppDomain.CurrentDomain.GetAssemblies().Length} gcs={GC.CollectionCount(0)}");
        return 0;
    }

    /// WorkerHost.CreateKernel step by step (without its native-library resolver and PDB switch, which cost nothing
    /// measurable), to see which step costs what.
    private static Microsoft.DotNet.Interactive.CompositeKernel CreateKernelInSteps(Action<string> mark)
    {
        var csharp = new Microsoft.DotNet.Interactive.CSharp.CSharpKernel();
        mark("new-CSharpKernel");
        csharp.UseNugetDirective((_, _) => Task.CompletedTask, false);
        mark("UseNugetDirective");
        csharp.UseKernelHelpers().UseValueSharing();
        mark("helpers+valuesharing");
        var composite = new Microsoft.DotNet.Interactive.CompositeKernel { csharp, new Microsoft.DotNet.Interactive.HtmlKernel() };
        composite.DefaultKernelName = csharp.Name;
        mark("CompositeKernel");
        return composite;
    }

    private static void Submit(Microsoft.DotNet.Interactive.CompositeKernel kernel, string code)
    {
        var result = kernel.SendAsync(new SubmitCode(code, "csharp")).GetAwaiter().GetResult();
        if (result.Events.OfType<CommandFailed>().FirstOrDefault() is { } failed) throw new InvalidOperationException(failed.Message);
    }

    private static int Repeat(int n, string[] rest)
    {
        var self = Environment.ProcessPath!;
        var runs = new List<Dictionary<string, double>>();
        for (var i = 0; i < n; i++)
        {
            var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(Probe).Assembly.Location);
            info.ArgumentList.Add("probe");
            info.ArgumentList.Add("kernel");
            if (rest.Contains("overlap")) info.ArgumentList.Add("overlap");
            if (rest.Contains("steps")) info.ArgumentList.Add("steps");
            info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
            info.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
            foreach (var kv in rest.Where(r => r.Contains('=')))
                info.Environment[kv[..kv.IndexOf('=')]] = kv[(kv.IndexOf('=') + 1)..];
            using var p = Process.Start(info)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("PROBE ", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"probe failed:\n{output}\n{err.Result}");
            Console.WriteLine(line);
            var run = new Dictionary<string, double>();
            foreach (var field in line[6..].Split(' '))
            {
                var eq = field.IndexOf('=');
                var parts = field[(eq + 1)..].Split('/');
                run[field[..eq]] = double.Parse(parts[0], CultureInfo.InvariantCulture);
                if (parts.Length > 1) run[field[..eq] + ".jit"] = double.Parse(parts[1], CultureInfo.InvariantCulture);
            }
            runs.Add(run);
        }
        Console.WriteLine($"median of {n} ({string.Join(' ', rest)}): " + string.Join(", ", runs[0].Keys.Select(k =>
            FormattableString.Invariant($"{k} {Stats.Median(runs.Select(r => r[k])):0}"))));
        return 0;
    }
}
