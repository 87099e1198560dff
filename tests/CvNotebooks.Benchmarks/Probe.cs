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
///   probe percell                               steady-state cost of `x = x + 1;` through the kernel and through
///                                               bare Roslyn scripting, in this process
///   probe cells [PASSES]                        the 50 cells of FiftyCells through one `cvnb worker`, PASSES times,
///                                               each cell timed (where the 50-cell notebook's time goes)
///   probe repeat N [overlap|steps] [NAME=VALUE...]    `probe kernel` in N fresh processes with those environment
///                                               variables; prints the median of every phase.
internal static class Probe
{
    public static int Run(string[] args)
    {
        if (args.Length >= 1 && args[0] == "kernel") return Kernel(args.Contains("overlap"), args.Contains("steps"));
        if (args.Length >= 1 && args[0] == "percell") return PerCell();
        if (args.Length >= 1 && args[0] == "cells") return Cells(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2);
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

    /// The 50 cells of FiftyCells through one `cvnb worker`, `passes` times over, each cell timed from send to done.
    private static int Cells(int passes)
    {
        var directory = Notebooks.NewFolder("probe-cells");
        try
        {
            var clock = Stopwatch.StartNew();
            using var worker = WorkerProcess.Start(Programs.Worker(directory));
            worker.WaitReady();
            Console.WriteLine($"ready after {clock.ElapsedMilliseconds} ms");
            for (var pass = 1; pass <= passes; pass++)
            {
                var times = new List<double>();
                var cpu = worker.ProcessorTime;
                foreach (var cell in Notebooks.FiftyCells)
                {
                    clock.Restart();
                    worker.Run(cell);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
                Console.WriteLine(FormattableString.Invariant($"pass {pass}: total {times.Sum():0} ms, worker CPU {(worker.ProcessorTime - cpu).TotalMilliseconds:0} ms, median {Stats.Median(times):0} ms, cells: {string.Join(' ', times.Select(t => t.ToString("0", CultureInfo.InvariantCulture)))}"));
            }
        }
        finally
        {
            Notebooks.TryDelete(directory);
        }
        return 0;
    }

    /// Steady-state cost of `x = x + 1;` in this process (60 cells, median of the last 40), through the kernel as the
    /// worker makes it (PDBs on, for line numbers), through the kernel without the PDB switch, and through bare
    /// Roslyn scripting (ScriptState.ContinueWithAsync) with and without debug information: what a small cell costs
    /// in the compiler itself and what the kernel's pipeline adds.
    private static int PerCell()
    {
        const string cell = "x = x + 1;";
        using (var kernel = WorkerHost.CreateKernel())
        {
            Submit(kernel, "var x = 0;");
            Report("kernel as the worker makes it", () => Submit(kernel, cell));
        }
        using (var kernel = CreateKernelInSteps(_ => { }))
        {
            Submit(kernel, "var x = 0;");
            Report("kernel without the PDB switch", () => Submit(kernel, cell));
        }
        foreach (var debug in new[] { true, false })
        {
            var options = ScriptOptions.Default.WithEmitDebugInformation(debug).WithFileEncoding(System.Text.Encoding.UTF8);
            var state = CSharpScript.RunAsync("var x = 0;", options).GetAwaiter().GetResult();
            Report($"bare Roslyn scripting, debug information {(debug ? "on" : "off")}", () => state = state.ContinueWithAsync(cell, options).GetAwaiter().GetResult());
        }
        return 0;

        static void Report(string what, Action run)
        {
            var times = new List<double>();
            for (var i = 0; i < 60; i++)
            {
                var clock = Stopwatch.StartNew();
                run();
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine(FormattableString.Invariant($"{what}: median {Stats.Median(times.Skip(20)):0.0} ms, min {times.Skip(20).Min():0.0} ms (cells 21-60); first {times[0]:0} ms"));
        }
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
