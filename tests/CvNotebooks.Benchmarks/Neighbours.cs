using System.Diagnostics;

namespace CvNotebooks.Benchmarks;

/// How busy the rest of the machine was while a benchmark ran: CPU time the whole machine spent (/proc/stat)
/// minus what this process and its waited-for children spent (getrusage), divided by the wall time = cores used
/// by other processes on average. On a shared 2-core machine this says whether a run can be trusted.
internal sealed class Neighbours
{
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly double _machine = MachineBusyMilliseconds();
    private readonly double _ours = OursMilliseconds();

    public string Report()
    {
        var wall = _wall.Elapsed.TotalMilliseconds;
        var others = (MachineBusyMilliseconds() - _machine) - (OursMilliseconds() - _ours);
        return double.IsNaN(others) ? "unknown"
            : $"other processes used {Math.Max(0, others) / wall:0.00} of {Environment.ProcessorCount} cores on average over {wall / 1000:0} s";
    }

    private static double OursMilliseconds() =>
        Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds + CpuTime.ChildrenMilliseconds();

    /// user + nice + system + irq + softirq + steal of all CPUs, in ms (USER_HZ = 100 on Linux).
    private static double MachineBusyMilliseconds()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(long.Parse).ToArray();
            var busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + (fields.Length > 7 ? fields[7] : 0);
            return busy * 10.0;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }
}
