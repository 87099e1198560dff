using System.Diagnostics;
using CvNotebooks.Runner.Documents;
using CvNotebooks.Runner.Execution;
using CvNotebooks.Runner.Export;

namespace CvNotebooks.Runner.Cli;

internal static class ExecuteCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Arguments(args);
        string output = Path.Combine("artifacts", "executed");
        string? junit = null, html = null;
        bool inplace = false, allowErrors = false, verbose = false, outputGiven = false;
        var timeout = 600.0;
        var jobs = 1;
        var parameters = new List<KeyValuePair<string, string>>();
        while (a.Next(out var option))
        {
            switch (option)
            {
                case "--output" or "-o": output = a.Value(option); outputGiven = true; break;
                case "--inplace": inplace = true; break;
                case "--timeout": timeout = a.Double(option, 0.1); break;
                case "--allow-errors": allowErrors = true; break;
                case "--jobs" or "-j": jobs = a.Int(option, 1, 64); break;
                case "--junit": junit = a.Value(option); break;
                case "--html": html = a.Value(option); break;
                case "--verbose" or "-v": verbose = true; break;
                case "-p" or "--parameter":
                    var raw = a.Value(option);
                    var eq = raw.IndexOf('=');
                    if (eq <= 0) throw new UsageException($"{option} takes NAME=VALUE, not '{raw}'");
                    var name = raw[..eq];
                    if (parameters.Any(p => p.Key == name)) throw new UsageException($"parameter '{name}' is given twice");
                    parameters.Add(new(name, raw[(eq + 1)..]));
                    break;
                default: throw new UsageException($"execute: unknown option {option}");
            }
        }
        if (inplace && outputGiven) throw new UsageException("--inplace and --output exclude each other");
        var notebooks = Commands.FindNotebooks(a.Positional, inplace ? null : output);

        var plan = new List<(string Path, string Relative, string Target)>();
        foreach (var (path, relative) in notebooks)
        {
            var target = inplace ? path : Path.Combine(output, relative);
            if (!inplace && Path.GetFullPath(target) == Path.GetFullPath(path))
                throw new UsageException($"{path}: the executed copy would overwrite the source; choose another --output or say --inplace");
            if (plan.Any(p => Path.GetFullPath(p.Target) == Path.GetFullPath(target)))
                throw new UsageException($"{target}: two notebooks would be written to the same place; execute them separately");
            plan.Add((path, relative, target));
        }
        CheckParameters(plan.Select(p => p.Path), parameters);

        var options = new ExecutionOptions { CellTimeout = TimeSpan.FromSeconds(timeout), AllowErrors = allowErrors, Parameters = parameters };
        using var display = ProgressDisplay.Create(stdout, plan.Count);
        var executor = new NotebookExecutor(options)
        {
            Progress = display.Cell,
            Log = verbose ? line => display.Log(line) : null,
            Notice = display.Log,
        };
        var clock = Stopwatch.StartNew();
        var results = new NotebookResult[plan.Count];
        using var gate = new SemaphoreSlim(jobs);
        await Task.WhenAll(plan.Select(async (item, i) =>
        {
            await gate.WaitAsync();
            try
            {
                display.Started(item.Relative);
                results[i] = await executor.ExecuteAsync(item.Path, item.Relative, item.Target);
                display.Finished(results[i]);
            }
            finally
            {
                gate.Release();
            }
        }));
        display.Done();

        if (junit is not null) JUnitWriter.Write(junit, results);
        if (html is not null) HtmlExporter.WriteSite(html, results);
        var failed = results.Count(r => !r.Succeeded);
        foreach (var r in results.Where(r => !r.Succeeded))
            stderr.WriteLine($"FAILED {r.RelativePath}: {r.Failure}");
        stdout.WriteLine($"{results.Length - failed} passed, {failed} failed in {clock.Elapsed.TotalSeconds:0.0} s"
            + (inplace ? "" : $"; executed notebooks in {output}") + (html is null ? "" : $"; HTML in {html}") + (junit is null ? "" : $"; JUnit in {junit}"));
        return failed == 0 ? Commands.Ok : Commands.Failed;
    }

    /// An unknown parameter is the caller's mistake: say so before anything runs.
    private static void CheckParameters(IEnumerable<string> paths, List<KeyValuePair<string, string>> parameters)
    {
        if (parameters.Count == 0) return;
        foreach (var path in paths)
        {
            Notebook nb;
            try { nb = Notebook.Load(path); }
            catch (NotebookFormatException) { continue; } // reported as that notebook's failure
            var declared = Parameters.Declared(nb);
            if (!nb.Cells.Any(c => c.HasTag(Parameters.Tag)))
                throw new UsageException($"{path}: parameters were given but no cell is tagged 'parameters'");
            foreach (var (name, value) in parameters)
            {
                var decl = declared.FirstOrDefault(d => d.Name == name)
                    ?? throw new UsageException($"{path}: unknown parameter '{name}'; the parameters cell declares {(declared.Count == 0 ? "nothing" : string.Join(", ", declared.Select(d => d.Name)))}");
                try { Parameters.Literal(decl, value, path); }
                catch (ParameterException e) { throw new UsageException(e.Message); }
            }
        }
    }
}

/// Progress on the terminal: a live status line when a person watches, plain log lines when output is
/// redirected or CI=true.
internal sealed class ProgressDisplay : IDisposable
{
    private readonly TextWriter _out;
    private readonly int _total;
    private readonly bool _live;
    private readonly object _lock = new();
    private readonly Dictionary<string, string> _running = new();
    private int _done;
    private Timer? _timer;

    private ProgressDisplay(TextWriter output, int total, bool live)
    {
        _out = output;
        _total = total;
        _live = live;
        if (live) _timer = new Timer(_ => Redraw(), null, 500, 500);
    }

    public static ProgressDisplay Create(TextWriter output, int total)
    {
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        var live = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && !ci;
        return new ProgressDisplay(output, total, live);
    }

    public void Started(string relative)
    {
        lock (_lock)
        {
            _running[relative] = "starting";
            if (!_live) _out.WriteLine($"[{_done}/{_total}] start {relative}");
            Redraw();
        }
    }

    public void Cell(CellProgress p)
    {
        lock (_lock)
        {
            _running[p.Notebook.RelativePath] = $"cell {p.CellNumber}";
            Redraw();
        }
    }

    public void Finished(NotebookResult r)
    {
        lock (_lock)
        {
            _running.Remove(r.RelativePath);
            _done++;
            ClearLine();
            var status = r.Succeeded ? "PASS" : "FAIL";
            var why = r.Succeeded ? "" : $": {r.Failure?.Split('\n')[0]}";
            _out.WriteLine($"[{_done}/{_total}] {status} {r.RelativePath} ({r.Duration.TotalSeconds:0.0} s){why}");
            Redraw();
        }
    }

    public void Log(string line)
    {
        lock (_lock)
        {
            ClearLine();
            _out.WriteLine(line);
            Redraw();
        }
    }

    public void Done()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            ClearLine();
        }
    }

    private void ClearLine()
    {
        if (_live) _out.Write("\r\u001b[2K");
    }

    private void Redraw()
    {
        if (!_live) return;
        lock (_lock)
        {
            var running = string.Join(", ", _running.Select(kv => $"{kv.Key} {kv.Value}"));
            var line = $"[{_done}/{_total}] {running}";
            var width = Math.Max(20, SafeWidth() - 1);
            _out.Write("\r\u001b[2K" + (line.Length > width ? line[..width] : line));
            _out.Flush();
        }
    }

    private static int SafeWidth()
    {
        try { return Console.WindowWidth; }
        catch (IOException) { return 100; }
    }

    public void Dispose() => Done();
}
