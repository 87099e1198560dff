using System.Runtime.CompilerServices;
using BenchmarkDotNet.Running;
using CvNotebooks.Benchmarks;

// Standard BenchmarkDotNet arguments: --filter '*', --list flat, --job short, --exporters json, ...
// One extra verb: `probe` (Probe.cs), a profile of the worker's cold start outside BenchmarkDotNet.
if (args.Length > 0 && args[0] == "probe")
    return Probe.Run(args[1..]);
return Benchmarks.Run(args);

internal static class Benchmarks
{
    [MethodImpl(MethodImplOptions.NoInlining)] // the probe's process should not load BenchmarkDotNet
    public static int Run(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Programs).Assembly).Run(args);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
