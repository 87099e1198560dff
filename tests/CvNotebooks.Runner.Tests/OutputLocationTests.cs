using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// Where executed notebooks go: a folder's relative paths under --output, the default artifacts/executed,
/// or over the source with --inplace; and never over a source by accident.
public sealed class OutputLocationTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    // 20-all-skipped starts no kernel, so these runs take a moment each.
    private const string Cheap = "20-all-skipped.ipynb";

    [Fact]
    public void A_folder_keeps_its_relative_paths_and_skips_checkpoints_and_the_output_folder_inside_it()
    {
        _ws.Add(Cheap, "course/intro.ipynb");
        _ws.Add(Cheap, "course/01-basics/a.ipynb");
        _ws.Add(Cheap, "course/02-more/deeper/b.ipynb");
        // Unreadable files where cvnb must not look: Jupyter's checkpoints, and earlier executed copies.
        _ws.Add("16-invalid-json.ipynb", "course/01-basics/.ipynb_checkpoints/a-checkpoint.ipynb");
        _ws.Add("16-invalid-json.ipynb", "course/executed/stale.ipynb");

        var run = _ws.Cvnb("execute", "course", "--output", "course/executed").ExpectExit(0);

        Assert.Contains("3 passed, 0 failed", run.Stdout);
        Assert.Equal(
            ["course/executed/01-basics/a.ipynb", "course/executed/02-more/deeper/b.ipynb", "course/executed/intro.ipynb", "course/executed/stale.ipynb"],
            _ws.Files().Where(f => f.StartsWith("course/executed/", StringComparison.Ordinal)));
        Assert.Equal(_ws.Read("course/02-more/deeper/b.ipynb"), _ws.Read("course/executed/02-more/deeper/b.ipynb"));
    }

    [Fact]
    public void Without_output_executed_copies_go_to_artifacts_executed()
    {
        _ws.Add(Cheap);
        _ws.Cvnb("execute", Cheap).ExpectExit(0);
        Assert.True(_ws.Exists("artifacts/executed/" + Cheap));
    }

    [Fact]
    public void Inplace_writes_the_executed_notebook_over_its_source_and_a_rerun_replaces_the_injected_cell()
    {
        _ws.Add("09-parameters.ipynb");

        _ws.Cvnb("execute", "09-parameters.ipynb", "--inplace", "-p", "epochs=7").ExpectExit(0);

        var first = Load(_ws.PathOf("09-parameters.ipynb"));
        Assert.Equal(3, first.CellNumberWithTag("injected-parameters"));
        Assert.StartsWith("epochs=7:Int32\n", first.Stream(4));
        Assert.Equal(["09-parameters.ipynb"], _ws.Files());

        // Executing the executed notebook again (papermill's re-run): one injected cell, with the new value.
        _ws.Cvnb("execute", "09-parameters.ipynb", "--inplace", "-p", "epochs=8").ExpectExit(0);

        var second = Load(_ws.PathOf("09-parameters.ipynb"));
        Assert.Equal(first.Cells.Count, second.Cells.Count);
        Assert.Equal(3, second.CellNumberWithTag("injected-parameters"));
        Assert.Contains("int epochs = 8;", Source(second.Cell(3)));
        Assert.StartsWith("epochs=8:Int32\n", second.Stream(4));
        Assert.Equal(["09-parameters.ipynb"], _ws.Files());
        Jupyter.Validate(_ws.PathOf("09-parameters.ipynb"));
    }

    [Fact]
    public void An_output_folder_that_would_overwrite_the_source_is_a_usage_error()
    {
        _ws.Add(Cheap);
        var hash = _ws.Hash(Cheap);
        var r = _ws.Cvnb("execute", Cheap, "--output", ".").ExpectExit(2);
        Assert.Contains("the executed copy would overwrite the source; choose another --output or say --inplace", r.Stderr);
        Assert.Equal(hash, _ws.Hash(Cheap));
    }

    [Fact]
    public void Two_notebooks_that_would_be_written_to_the_same_place_are_a_usage_error()
    {
        _ws.Add(Cheap, "a/same.ipynb");
        _ws.Add(Cheap, "b/same.ipynb");
        var r = _ws.Cvnb("execute", "a/same.ipynb", "b/same.ipynb", "--output", "out").ExpectExit(2);
        Assert.Contains("two notebooks would be written to the same place", r.Stderr);
        Assert.False(_ws.Exists("out"));
    }

    [Fact]
    public void Inplace_and_output_together_are_a_usage_error()
    {
        _ws.Add(Cheap);
        var r = _ws.Cvnb("execute", Cheap, "--inplace", "--output", "out").ExpectExit(2);
        Assert.Contains("--inplace and --output exclude each other", r.Stderr);
    }
}
