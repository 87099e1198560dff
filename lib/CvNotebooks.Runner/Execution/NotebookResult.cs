using CvNotebooks.Runner.Documents;

namespace CvNotebooks.Runner.Execution;

public enum CellStatus { NotRun, Skipped, Succeeded, Failed, ExpectedError, TimedOut, Unsupported }

public sealed record CellResult(int Number, CellStatus Status, TimeSpan Duration, string? Error = null);

/// What happened to one notebook: enough for the terminal summary, the HTML index and the JUnit report.
public sealed class NotebookResult
{
    public required string SourcePath { get; init; }
    /// Path relative to the folder it was found under (or its file name): used for output paths and report names.
    public required string RelativePath { get; init; }
    public string? OutputPath { get; set; }
    /// The executed document (null when the file could not even be read).
    public Notebook? Executed { get; set; }
    public bool Succeeded => Failure is null;
    /// Why the notebook failed, in one or a few lines naming the cell; null on success.
    public string? Failure { get; set; }
    public TimeSpan Duration { get; set; }
    public List<CellResult> Cells { get; } = [];
}
