using System.Xml.Linq;
using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// One `cvnb execute --jobs 2` over notebooks that fail in every way a notebook can (a compile error, an exception,
/// a missing expected error, an F# cell, an unknown magic, Environment.Exit, a stack overflow, unreadable files)
/// plus one that passes: a failure in one notebook must not touch the others.
public sealed class FailingRunFixture : IDisposable
{
    public Workspace Ws { get; } = new();
    public CvnbRun Run { get; }
    public Dictionary<string, string> HashesBefore { get; }

    public const string Passing = "01-state-and-output.ipynb";

    /// The crashing notebooks come first so that they run beside the passing one.
    public static readonly string[] Notebooks =
    [
        "15-stack-overflow.ipynb",
        Passing,
        "14-exit.ipynb",
        "04-raises-missing.ipynb",
        "05-compile-error.ipynb",
        "06-exception.ipynb",
        "07-fsharp.ipynb",
        "08-unknown-magic.ipynb",
        "16-invalid-json.ipynb",
        "17-nbformat3.ipynb",
    ];

    public static readonly string[] Unreadable = ["16-invalid-json.ipynb", "17-nbformat3.ipynb"];

    public FailingRunFixture()
    {
        foreach (var nb in Notebooks) Ws.Add(nb);
        HashesBefore = Ws.Hashes(Notebooks);
        Run = Ws.Cvnb(["execute", .. Notebooks, "--output", "executed", "--jobs", "2", "--junit", "junit.xml"]);
    }

    public Ipynb Executed(string notebook) => Load(Ws.PathOf("executed/" + notebook));

    /// The line cvnb prints on stderr for a failed notebook.
    public string FailedLine(string notebook)
    {
        var line = Run.Stderr.Split('\n').SingleOrDefault(l => l.StartsWith($"FAILED {notebook}: ", StringComparison.Ordinal));
        Assert.True(line is not null, $"no FAILED line for {notebook}:\n{Run}");
        return line;
    }

    public void Dispose() => Ws.Dispose();
}

public sealed class FailingRunTests(FailingRunFixture run) : IClassFixture<FailingRunFixture>
{
    [Fact]
    public void The_run_exits_1_and_counts_one_pass_and_nine_failures()
    {
        run.Run.ExpectExit(1);
        Assert.Contains("1 passed, 9 failed", run.Run.Stdout);
    }

    [Fact]
    public void A_crash_or_exit_in_one_notebook_does_not_affect_the_notebook_running_beside_it()
    {
        Assert.Contains($"PASS {FailingRunFixture.Passing}", run.Run.Stdout);
        Assert.DoesNotContain($"FAILED {FailingRunFixture.Passing}", run.Run.Stderr);
        var nb = run.Executed(FailingRunFixture.Passing);
        Assert.Equal("hello, world\ncounter = 42\n", nb.Stream(4));
        Assert.Equal("third", Data(nb.Outputs(8)[2], "text/plain"));
    }

    [Fact]
    public void A_compile_error_is_an_error_output_in_the_kernels_own_form()
    {
        var nb = run.Executed("05-compile-error.ipynb");
        Assert.Equal("cell 1 ran\n", nb.Stream(1));
        var error = nb.Error(2);
        Assert.Equal("(1,9): error CS0029: Cannot implicitly convert type 'string' to 'int'", Evalue(error));
        Assert.Equal(["(1,9): error CS0029: Cannot implicitly convert type 'string' to 'int'"], Traceback(error));
        Assert.Equal(2, nb.ExecutionCount(2));
        Assert.Equal("FAILED 05-compile-error.ipynb: cell 2: (1,9): error CS0029: Cannot implicitly convert type 'string' to 'int'",
            run.FailedLine("05-compile-error.ipynb"));
    }

    [Fact]
    public void Cells_after_a_failure_do_not_run_and_lose_their_stale_outputs()
    {
        var nb = run.Executed("05-compile-error.ipynb");
        Assert.Null(nb.ExecutionCount(3));
        Assert.Empty(nb.Outputs(3));
        Assert.Equal("Console.WriteLine(kept);", Source(nb.Cell(3)));
    }

    [Fact]
    public void An_exception_names_its_type_message_and_the_line_in_the_cell()
    {
        var nb = run.Executed("06-exception.ipynb");
        Assert.Equal(["stream", "error"], nb.OutputTypes(1));
        Assert.Equal("about to fail\n", nb.Stream(1));
        var error = nb.Error(1);
        Assert.Equal("System.ArgumentOutOfRangeException", Ename(error));
        Assert.StartsWith("Index was out of range.", Evalue(error));
        Assert.EndsWith("(cell line 3)", Evalue(error));
        var trace = Traceback(error);
        Assert.StartsWith("System.ArgumentOutOfRangeException: Index was out of range.", trace[0]);
        Assert.Contains("   at line 3 of the cell: var missing = items[10];", trace);
        Assert.Null(nb.ExecutionCount(2));
        Assert.Contains("cell 1: System.ArgumentOutOfRangeException", run.FailedLine("06-exception.ipynb"));
        Assert.Contains("(cell line 3)", run.FailedLine("06-exception.ipynb"));
    }

    [Fact]
    public void A_raises_exception_cell_that_raises_nothing_fails_the_notebook()
    {
        var nb = run.Executed("04-raises-missing.ipynb");
        var error = nb.Error(1);
        Assert.Equal("ExpectedErrorMissing", Ename(error));
        Assert.Equal("cell 1 is tagged 'raises-exception' but raised no error", Evalue(error));
        Assert.Null(nb.ExecutionCount(2));
        Assert.Contains("tagged 'raises-exception' but raised no error", run.FailedLine("04-raises-missing.ipynb"));
    }

    [Fact]
    public void An_fsharp_cell_is_reported_as_not_run_and_fails_the_notebook()
    {
        var nb = run.Executed("07-fsharp.ipynb");
        Assert.Equal(1, nb.ExecutionCount(1));
        var error = nb.Error(2);
        Assert.Equal("UnsupportedKernel", Ename(error));
        Assert.Contains("cell 2 is in the 'fsharp' kernel, which cvnb does not run", Evalue(error));
        Assert.Contains("skip-execution", Evalue(error));
        Assert.Null(nb.ExecutionCount(3));
        Assert.Empty(nb.Outputs(3));
        Assert.Contains("cell 2 is in the 'fsharp' kernel, which cvnb does not run", run.FailedLine("07-fsharp.ipynb"));
    }

    [Fact]
    public void An_unknown_magic_is_the_kernels_DNI101_error()
    {
        var nb = run.Executed("08-unknown-magic.ipynb");
        var error = nb.Error(1);
        Assert.Equal("(1,1): error DNI101: Unknown magic command '#!nosuchmagic'", Evalue(error));
        Assert.Equal("", nb.Stream(1));
        Assert.Contains("DNI101", run.FailedLine("08-unknown-magic.ipynb"));
    }

    [Fact]
    public void Environment_Exit_ends_the_notebook_with_a_message_naming_the_exit_code()
    {
        var nb = run.Executed("14-exit.ipynb");
        Assert.Equal("about to exit\n", nb.Stream(1));
        var error = nb.Error(2);
        Assert.Equal("KernelDied", Ename(error));
        Assert.Contains("the C# kernel process ended while running cell 2", Evalue(error));
        Assert.Contains("exit code 3", Evalue(error));
        Assert.Null(nb.ExecutionCount(3));
        Assert.Contains("exit code 3", run.FailedLine("14-exit.ipynb"));
    }

    [Fact]
    public void A_stack_overflow_fails_the_notebook_with_a_message_saying_so()
    {
        var nb = run.Executed("15-stack-overflow.ipynb");
        var error = nb.Error(1);
        Assert.Equal("KernelDied", Ename(error));
        Assert.Contains("a stack overflow", Evalue(error));
        // The runtime's report names the function that recursed.
        Assert.Contains("Recurse", Evalue(error));
        var line = run.FailedLine("15-stack-overflow.ipynb");
        Assert.Contains("cell 1", line);
        Assert.Contains("a stack overflow", line);
    }

    [Fact]
    public void Unreadable_notebooks_fail_with_the_reason_and_get_no_executed_copy()
    {
        Assert.StartsWith("FAILED 16-invalid-json.ipynb: 16-invalid-json.ipynb: not valid JSON (line 7", run.FailedLine("16-invalid-json.ipynb"));
        Assert.Contains("nbformat 3 is not supported; only nbformat 4 is", run.FailedLine("17-nbformat3.ipynb"));
        foreach (var nb in FailingRunFixture.Unreadable)
            Assert.False(run.Ws.Exists("executed/" + nb), $"{nb} was written although it could not be read");
    }

    [Fact]
    public void Every_readable_notebook_gets_its_executed_copy_and_sources_stay_byte_identical()
    {
        var expected = FailingRunFixture.Notebooks.Except(FailingRunFixture.Unreadable).Select(n => "executed/" + n).Order(StringComparer.Ordinal);
        Assert.Equal(expected, run.Ws.Files("*.ipynb").Where(f => f.StartsWith("executed/", StringComparison.Ordinal)));
        Assert.Equal(run.HashesBefore, run.Ws.Hashes(FailingRunFixture.Notebooks));
        Assert.Empty(run.Ws.Files("*.tmp"));
    }

    [Fact]
    public void Junit_report_has_failures_for_notebooks_that_ran_and_errors_for_unreadable_ones()
    {
        var suite = Assert.Single(XDocument.Load(run.Ws.PathOf("junit.xml")).Root!.Elements("testsuite"));
        Assert.Equal("10", (string?)suite.Attribute("tests"));
        Assert.Equal("7", (string?)suite.Attribute("failures"));
        Assert.Equal("2", (string?)suite.Attribute("errors"));
        var cases = suite.Elements("testcase").ToDictionary(c => (string)c.Attribute("name")!);
        Assert.Equal(FailingRunFixture.Notebooks.Select(Path.GetFileNameWithoutExtension), suite.Elements("testcase").Select(c => (string?)c.Attribute("name")));
        Assert.Null(cases["01-state-and-output"].Element("failure"));
        var compile = cases["05-compile-error"].Element("failure")!;
        Assert.Equal("cell 2: (1,9): error CS0029: Cannot implicitly convert type 'string' to 'int'", (string?)compile.Attribute("message"));
        Assert.Contains("int x = \"not a number\";", compile.Value);
        Assert.Equal("System.ArgumentOutOfRangeException", (string?)cases["06-exception"].Element("failure")!.Attribute("type"));
        Assert.NotNull(cases["16-invalid-json"].Element("error"));
        Assert.NotNull(cases["17-nbformat3"].Element("error"));
    }

    [Fact]
    public void Executed_notebooks_with_error_outputs_validate_with_nbformat_and_convert_with_nbconvert()
    {
        var files = FailingRunFixture.Notebooks.Except(FailingRunFixture.Unreadable).Select(n => run.Ws.PathOf("executed/" + n)).ToArray();
        Jupyter.Validate(files);
        Jupyter.ConvertToHtml(run.Ws.PathOf("nbconvert"), files);
        var v = run.Ws.Cvnb(["validate", .. files]).ExpectExit(0);
        Assert.Contains($"{files.Length} valid, 0 invalid", v.Stdout);
    }

    [Fact]
    public void No_kernel_process_outlives_the_run()
    {
        Assert.Empty(Processes.LeftIn(run.Ws.Root));
    }
}
