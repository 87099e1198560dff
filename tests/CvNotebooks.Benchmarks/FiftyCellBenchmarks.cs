using BenchmarkDotNet.Attributes;

namespace CvNotebooks.Benchmarks;

/// 3. A 50-cell notebook, whole command from Process.Start to exit:
///   floor = cvnb-floor fifty: the same 50 steps compiled into one program;
///   cvnb  = `cvnb execute fifty.ipynb --output DIR`: 50 small cells (arithmetic on the previous cell's variable,
///           a string, one Console.WriteLine each) in one worker, executed notebook written.
/// GlobalCleanup checks that both printed the same 50 lines, so the two really did the same work.
[Config(typeof(ProcessConfig))]
public class FiftyCells
{
    private string _directory = "";
    private Neighbours? _neighbours;
    private string _notebook = "";
    private string? _floorOutput;

    [GlobalSetup]
    public void Setup()
    {
        _neighbours = new Neighbours();
        _directory = Notebooks.NewFolder("fifty");
        _notebook = Notebooks.Write(_directory, "fifty.ipynb", Notebooks.FiftyCells);
    }

    [Benchmark(Baseline = true)]
    public string Floor_FiftySteps() => _floorOutput = Programs.RunToExit(Programs.Floor("fifty"), nameof(FiftyCells), nameof(Floor_FiftySteps));

    [Benchmark]
    public string CvnbExecute_FiftyCells() =>
        Programs.RunToExit(Programs.Cvnb("execute", _notebook, "--output", Path.Combine(_directory, "out")), nameof(FiftyCells), nameof(CvnbExecute_FiftyCells));

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_neighbours is not null) Console.WriteLine($"// neighbours: {_neighbours.Report()}");
        try
        {
            var expected = Expected();
            if (_floorOutput is not null && _floorOutput.TrimEnd('\n') != string.Join("\n", expected))
                throw new InvalidOperationException($"cvnb-floor fifty printed something else:\n{_floorOutput}");
            var executed = Path.Combine(_directory, "out", "fifty.ipynb");
            if (File.Exists(executed))
            {
                var cells = Notebooks.StdoutOf(executed);
                if (!cells.SequenceEqual(expected.Select(l => l + "\n")))
                    throw new InvalidOperationException($"the executed notebook's outputs differ from the floor's:\n{string.Join("", cells)}");
                Console.WriteLine("// verified: the 50 cells printed the floor's 50 lines");
            }
        }
        finally
        {
            Notebooks.TryDelete(_directory);
        }
    }

    private static List<string> Expected()
    {
        var lines = new List<string>();
        var v = 7;
        for (var i = 1; i <= 50; i++)
        {
            v = (v * 31 + i) % 1000;
            lines.Add($"step {i}: {v} " + "abcdefghij"[..(i % 10 + 1)]);
        }
        return lines;
    }
}
