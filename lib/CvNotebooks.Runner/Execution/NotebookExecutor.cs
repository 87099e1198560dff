using System.Diagnostics;
using System.Text.Json.Nodes;
using CvNotebooks.Runner.Documents;
using CvNotebooks.Runner.Kernel;

namespace CvNotebooks.Runner.Execution;

public sealed record ExecutionOptions
{
    public TimeSpan CellTimeout { get; init; } = TimeSpan.FromSeconds(600);
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(120);
    public bool AllowErrors { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; init; } = [];
}

public sealed record CellProgress(NotebookResult Notebook, int CellNumber, int CodeCells, CellStatus Status);

/// Runs one notebook in its own worker process and records what every cell produced.
public sealed class NotebookExecutor(ExecutionOptions options)
{
    public const string SkipTag = "skip-execution";
    public const string RaisesTag = "raises-exception";

    /// Kernel names the worker runs. Polyglot stores "csharp"; older files and magics use the others.
    private static readonly HashSet<string> Runnable = new(StringComparer.OrdinalIgnoreCase) { "csharp", "c#", "html", "markdown", "md" };

    public Action<CellProgress>? Progress { get; init; }
    public Action<string>? Log { get; init; }
    /// Things a user should see even without --verbose (e.g. errors that --allow-errors let pass).
    public Action<string>? Notice { get; init; }

    public async Task<NotebookResult> ExecuteAsync(string sourcePath, string relativePath, string? outputPath)
    {
        var result = new NotebookResult { SourcePath = sourcePath, RelativePath = relativePath, OutputPath = outputPath };
        var clock = Stopwatch.StartNew();
        try
        {
            var notebook = Notebook.Load(sourcePath);
            result.Executed = notebook;
            Parameters.Inject(notebook, options.Parameters);
            await RunCellsAsync(notebook, result);
        }
        catch (Exception e) when (e is NotebookFormatException or ParameterException)
        {
            result.Failure = e.Message;
        }
        result.Duration = clock.Elapsed;
        if (result.Executed is { } executed && outputPath is not null)
            executed.Save(outputPath);
        return result;
    }

    private async Task RunCellsAsync(Notebook notebook, NotebookResult result)
    {
        var codeCells = notebook.Cells.Count(c => c.Type == CellType.Code);
        var directory = Path.GetDirectoryName(Path.GetFullPath(result.SourcePath))!;
        WorkerClient? worker = null;
        var executionCount = 0;
        try
        {
            foreach (var cell in notebook.Cells)
            {
                if (cell.Type != CellType.Code) continue;
                if (result.Failure is not null)
                {
                    // Outputs of cells after a failure would be stale: they were not produced by this run.
                    if (!cell.HasTag(SkipTag)) cell.ClearOutputs();
                    result.Cells.Add(new CellResult(cell.Number, CellStatus.NotRun, TimeSpan.Zero));
                    continue;
                }
                var cellResult = await RunCellAsync(cell, notebook, result, directory, () => ++executionCount, w => worker = w, worker);
                result.Cells.Add(cellResult);
                Progress?.Invoke(new CellProgress(result, cell.Number, codeCells, cellResult.Status));
                if (cellResult.Status is CellStatus.Failed or CellStatus.TimedOut or CellStatus.Unsupported
                    && (!options.AllowErrors || cellResult.Status != CellStatus.Failed || worker?.ExitCode is not null))
                    result.Failure ??= $"cell {cell.Number}: {cellResult.Error}";
            }
            if (options.AllowErrors && result.Failure is null)
            {
                var failed = result.Cells.Where(c => c.Status == CellStatus.Failed).ToList();
                if (failed.Count > 0) Notice?.Invoke($"{result.RelativePath}: {failed.Count} cell(s) raised errors (allowed): {string.Join(", ", failed.Select(c => c.Number))}");
            }
        }
        finally
        {
            if (worker is not null) await worker.DisposeAsync();
        }
    }

    private async Task<CellResult> RunCellAsync(Cell cell, Notebook notebook, NotebookResult result, string directory,
        Func<int> nextCount, Action<WorkerClient> setWorker, WorkerClient? worker)
    {
        if (cell.HasTag(SkipTag))
            return new CellResult(cell.Number, CellStatus.Skipped, TimeSpan.Zero);
        var kernel = cell.KernelName ?? notebook.NotebookKernelName;

        cell.ClearOutputs();
        if (!Runnable.Contains(kernel))
        {
            // Not run, so no execution count; and not an error in the notebook's code, so --allow-errors does
            // not excuse it: a notebook cvnb could not run entirely has not passed.
            var message = $"cvnb runs C#, HTML and Markdown cells; cell {cell.Number} is in the '{kernel}' kernel, which cvnb does not run. Open the notebook in VS Code Polyglot Notebooks to run it, or tag the cell 'skip-execution'.";
            cell.Outputs.Add(Outputs.Error("UnsupportedKernel", message));
            return new CellResult(cell.Number, CellStatus.Unsupported, TimeSpan.Zero, message);
        }
        cell.ExecutionCount = nextCount();

        if (worker is null)
        {
            worker = WorkerClient.Start(directory);
            worker.Log = Log is null ? null : line => Log($"{result.RelativePath} [kernel] {line}");
            setWorker(worker);
            using var startCts = new CancellationTokenSource(options.StartTimeout);
            JsonObject? ready;
            try { ready = await worker.ReadAsync(startCts.Token); }
            catch (OperationCanceledException) { ready = null; worker.Kill(); }
            if (ready?["ev"]?.GetValue<string>() != "ready")
            {
                var message = $"the C# kernel process did not start: {Describe(worker)}";
                cell.Outputs.Add(Outputs.Error("KernelStartFailed", message));
                return new CellResult(cell.Number, CellStatus.Failed, TimeSpan.Zero, message);
            }
        }

        var clock = Stopwatch.StartNew();
        var displays = new Dictionary<string, JsonObject>();
        try
        {
            await worker.SendAsync(new JsonObject { ["op"] = "run", ["cell"] = cell.Number, ["kernel"] = kernel, ["code"] = cell.Source });
        }
        catch (IOException)
        {
            // The worker died between cells; the read below reports how.
        }
        using var cts = new CancellationTokenSource(options.CellTimeout);
        while (true)
        {
            JsonObject? message;
            try { message = await worker.ReadAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                worker.Kill();
                var text = $"Timeout: cell {cell.Number} did not finish within {options.CellTimeout.TotalSeconds:0.#} s; the kernel was stopped.";
                cell.Outputs.Add(Outputs.Error("TimeoutError", text));
                return new CellResult(cell.Number, CellStatus.TimedOut, clock.Elapsed, text);
            }
            if (message is null)
            {
                await worker.WaitForEndAsync(TimeSpan.FromSeconds(5)); // let the exit code and stderr arrive
                var text = $"the C# kernel process ended while running cell {cell.Number}: {Describe(worker)}";
                cell.Outputs.Add(Outputs.Error("KernelDied", text));
                return new CellResult(cell.Number, CellStatus.Failed, clock.Elapsed, text);
            }
            switch (message["ev"]?.GetValue<string>())
            {
                case "output":
                    var output = message["output"]!.AsObject();
                    output.Parent?.AsObject().Remove("output");
                    if (output["output_type"]?.GetValue<string>() == "execute_result") output["execution_count"] = cell.ExecutionCount;
                    Append(cell.Outputs, output);
                    if (message["displayId"]?.GetValue<string>() is { } id) displays[id] = output;
                    break;
                case "update":
                    if (message["displayId"]?.GetValue<string>() is { } uid && displays.TryGetValue(uid, out var shown))
                        shown["data"] = message["output"]!["data"]!.DeepClone();
                    break;
                case "done":
                    var ok = message["ok"]?.GetValue<bool>() == true;
                    var elapsed = clock.Elapsed;
                    if (cell.HasTag(RaisesTag))
                        return ok
                            ? Fail(cell, $"cell {cell.Number} is tagged '{RaisesTag}' but raised no error", elapsed)
                            : new CellResult(cell.Number, CellStatus.ExpectedError, elapsed);
                    return ok
                        ? new CellResult(cell.Number, CellStatus.Succeeded, elapsed)
                        : new CellResult(cell.Number, CellStatus.Failed, elapsed, ErrorText(cell));
            }
        }
    }

    private static CellResult Fail(Cell cell, string message, TimeSpan elapsed)
    {
        cell.Outputs.Add(Outputs.Error("ExpectedErrorMissing", message));
        return new CellResult(cell.Number, CellStatus.Failed, elapsed, message);
    }

    /// Consecutive stream outputs of the same name are one output, as Jupyter stores them.
    private static void Append(JsonArray outputs, JsonObject output)
    {
        if (output["output_type"]?.GetValue<string>() == "stream" && outputs.Count > 0 && outputs[^1] is JsonObject last
            && last["output_type"]?.GetValue<string>() == "stream" && last["name"]?.GetValue<string>() == output["name"]?.GetValue<string>())
        {
            last["text"] = Cell.ToSourceLines(Outputs.Text(last["text"]) + Outputs.Text(output["text"]));
            return;
        }
        outputs.Add(output);
    }

    private static string ErrorText(Cell cell)
    {
        var error = cell.Outputs.OfType<JsonObject>().LastOrDefault(o => o["output_type"]?.GetValue<string>() == "error");
        if (error is null) return "the cell failed";
        var name = error["ename"]?.GetValue<string>();
        var value = error["evalue"]?.GetValue<string>() ?? "";
        return name is null or "Error" ? value : $"{name}: {value}";
    }

    private static string Describe(WorkerClient worker)
    {
        var code = worker.ExitCode;
        var crash = worker.CrashReport;
        var tail = crash.Length > 0 ? crash : worker.StderrTail;
        var what = code switch
        {
            null => "it stopped answering",
            134 when tail.Contains("Stack overflow", StringComparison.OrdinalIgnoreCase) => "a stack overflow (exit code 134)",
            134 => "it aborted (exit code 134, SIGABRT)",
            139 => "a native crash (exit code 139, SIGSEGV)",
            137 => "it was killed (exit code 137, SIGKILL; out of memory?)",
            _ => $"exit code {code} (Environment.Exit or a crash)",
        };
        var lines = tail.Split('\n').Where(l => l.Length > 0).TakeLast(8).ToList();
        return lines.Count == 0 ? what : $"{what}. Last kernel output:\n{string.Join("\n", lines)}";
    }
}
