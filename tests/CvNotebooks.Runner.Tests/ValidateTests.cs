using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;

namespace CvNotebooks.Runner.Tests;

/// `cvnb validate`: nbformat 4 and the metadata Polyglot Notebooks needs, naming the cell of every problem.
public sealed class ValidateTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Every_polyglot_fixture_is_valid()
    {
        var files = FixtureFormatTests.Polyglot.Select(f => _ws.Add(f)).ToArray();
        var hashes = _ws.Hashes(files);

        var r = _ws.Cvnb(["validate", .. files]).ExpectExit(0);

        foreach (var f in files) Assert.Contains($"ok      {f}", r.Stdout);
        Assert.Contains($"{files.Length} valid, 0 invalid", r.Stdout);
        Assert.Equal(hashes, _ws.Hashes(files));
    }

    [Fact]
    public void Broken_metadata_is_invalid_and_the_message_names_the_cell()
    {
        _ws.Add("18-broken-metadata.ipynb");
        _ws.Add("01-state-and-output.ipynb");

        var r = _ws.Cvnb("validate", "01-state-and-output.ipynb", "18-broken-metadata.ipynb").ExpectExit(1);

        Assert.Contains("ok      01-state-and-output.ipynb", r.Stdout);
        Assert.Contains("INVALID 18-broken-metadata.ipynb", r.Stdout);
        Assert.Contains("18-broken-metadata.ipynb: cell 3: uses kernel 'python', which metadata.polyglot_notebook.kernelInfo.items does not declare", r.Stderr);
        Assert.Contains("1 valid, 1 invalid", r.Stdout);
    }

    [Fact]
    public void Unreadable_files_are_invalid_with_the_reason()
    {
        _ws.Add("16-invalid-json.ipynb");
        _ws.Add("17-nbformat3.ipynb");

        var r = _ws.Cvnb("validate", "16-invalid-json.ipynb", "17-nbformat3.ipynb").ExpectExit(1);

        Assert.Contains("16-invalid-json.ipynb: not valid JSON (line 7, byte 3)", r.Stderr);
        Assert.Contains("17-nbformat3.ipynb: nbformat 3 is not supported", r.Stderr);
        Assert.Contains("0 valid, 2 invalid", r.Stdout);
    }

    [Fact]
    public void A_folder_is_validated_recursively()
    {
        _ws.Add("19-exercises.ipynb", "course/a/19-exercises.ipynb");
        _ws.Add("18-broken-metadata.ipynb", "course/b/18-broken-metadata.ipynb");

        var r = _ws.Cvnb("validate", "course").ExpectExit(1);

        Assert.Contains("1 valid, 1 invalid", r.Stdout);
        Assert.Contains("cell 3: uses kernel 'python'", r.Stderr);
    }

    [Fact]
    public void A_missing_file_is_a_usage_error()
    {
        var r = _ws.Cvnb("validate", "gone.ipynb").ExpectExit(2);
        Assert.Contains("gone.ipynb: no such file or folder", r.Stderr);
    }
}
