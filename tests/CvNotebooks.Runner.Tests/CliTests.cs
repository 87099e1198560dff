using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;

namespace CvNotebooks.Runner.Tests;

/// The command line itself: exit codes (0 good, 1 a notebook failed, 2 a usage error) and messages that name
/// the problem. None of these start a kernel.
public sealed class CliTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Without_arguments_it_prints_usage_and_exits_2()
    {
        var r = _ws.Cvnb().ExpectExit(2);
        Assert.Contains("cvnb execute PATH...", r.Stdout);
    }

    [Fact]
    public void Help_exits_0()
    {
        var r = _ws.Cvnb("--help").ExpectExit(0);
        Assert.Contains("Exit codes: 0 all succeeded, 1 a notebook failed or is invalid, 2 a usage error.", r.Stdout);
    }

    [Theory]
    [InlineData(new[] { "run", "x.ipynb" }, "unknown command 'run'")]
    [InlineData(new[] { "execute", "20-all-skipped.ipynb", "--frobnicate" }, "execute: unknown option --frobnicate")]
    [InlineData(new[] { "execute", "20-all-skipped.ipynb", "--timeout", "0" }, "--timeout must be a number of at least 0.1, not '0'")]
    [InlineData(new[] { "execute", "20-all-skipped.ipynb", "--timeout", "soon" }, "--timeout must be a number of at least 0.1, not 'soon'")]
    [InlineData(new[] { "execute", "20-all-skipped.ipynb", "--jobs", "0" }, "--jobs must be a whole number from 1 to 64, not '0'")]
    [InlineData(new[] { "execute", "20-all-skipped.ipynb", "--output" }, "--output needs a value")]
    [InlineData(new[] { "validate", "20-all-skipped.ipynb", "--strict" }, "validate: unknown option --strict")]
    public void Usage_mistakes_exit_2_naming_the_mistake(string[] args, string message)
    {
        _ws.Add("20-all-skipped.ipynb");
        var r = _ws.Cvnb(args).ExpectExit(2);
        Assert.Contains("cvnb: " + message, r.Stderr);
        Assert.Contains("Run 'cvnb --help' for usage.", r.Stderr);
        Assert.False(_ws.Exists("artifacts"));
    }

    [Fact]
    public void A_missing_file_is_a_usage_error_naming_it_and_nothing_runs()
    {
        _ws.Add("20-all-skipped.ipynb");
        var r = _ws.Cvnb("execute", "20-all-skipped.ipynb", "no-such-notebook.ipynb").ExpectExit(2);
        Assert.Contains("cvnb: no-such-notebook.ipynb: no such file or folder", r.Stderr);
        Assert.False(_ws.Exists("artifacts"), "nothing runs when one of the paths is wrong");
    }

    [Fact]
    public void A_file_that_is_not_a_notebook_is_a_usage_error()
    {
        File.WriteAllText(_ws.PathOf("notes.txt"), "hello");
        var r = _ws.Cvnb("execute", "notes.txt").ExpectExit(2);
        Assert.Contains("notes.txt: not a notebook (.ipynb)", r.Stderr);
    }

    [Fact]
    public void A_folder_without_notebooks_is_a_usage_error()
    {
        Directory.CreateDirectory(_ws.PathOf("empty"));
        var r = _ws.Cvnb("execute", "empty").ExpectExit(2);
        Assert.Contains("empty: no notebooks (.ipynb) in this folder", r.Stderr);
    }

    [Fact]
    public void Invalid_json_fails_with_the_position_and_writes_no_executed_file()
    {
        _ws.Add("16-invalid-json.ipynb");
        var hash = _ws.Hash("16-invalid-json.ipynb");
        var r = _ws.Cvnb("execute", "16-invalid-json.ipynb", "--output", "out").ExpectExit(1);
        Assert.Contains("FAILED 16-invalid-json.ipynb: 16-invalid-json.ipynb: not valid JSON (line 7, byte 3)", r.Stderr);
        Assert.Contains("0 passed, 1 failed", r.Stdout);
        Assert.False(_ws.Exists("out/16-invalid-json.ipynb"));
        Assert.Equal(hash, _ws.Hash("16-invalid-json.ipynb"));
    }

    [Fact]
    public void An_nbformat_3_notebook_fails_saying_only_nbformat_4_is_supported()
    {
        _ws.Add("17-nbformat3.ipynb");
        var r = _ws.Cvnb("execute", "17-nbformat3.ipynb", "--output", "out").ExpectExit(1);
        Assert.Contains("17-nbformat3.ipynb: nbformat 3 is not supported; only nbformat 4 is", r.Stderr);
        Assert.Contains("jupyter nbconvert --to notebook --nbformat 4", r.Stderr);
        Assert.False(_ws.Exists("out/17-nbformat3.ipynb"));
    }
}
