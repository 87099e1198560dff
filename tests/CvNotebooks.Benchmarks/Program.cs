using BenchmarkDotNet.Running;
using CvNotebooks.Benchmarks;

// Standard BenchmarkDotNet arguments: --filter '*', --list flat, --job short, --exporters json, ...
// One extra verb: `probe` (see Probe.cs), quick medians of worker start-up phases outside BenchmarkDotNet.
if (args.Length > 0 && args[0] == "probe")
    return Probe.Run(args[1..]);

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Programs).Assembly).Run(args);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
