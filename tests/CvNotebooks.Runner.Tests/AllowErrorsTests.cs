using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// `--allow-errors` (nbconvert's): record each cell's error and go on with the same kernel.
public sealed class AllowErrorsFixture : IDisposable
{
    public Workspace Ws { get; } = new();
    public CvnbRun Run { get; }

    public AllowErrorsFixture()
    {
        Ws.Add("05-compile-error.ipynb");
        Ws.Add("06-exception.ipynb");
        Run = Ws.Cvnb("execute", "05-compile-error.ipynb", "06-exception.ipynb", "--allow-errors", "--output", "executed", "--jobs", "2");
    }

    public Ipynb Executed(string notebook) => Load(Ws.PathOf("executed/" + notebook));

    public void Dispose() => Ws.Dispose();
}

public sealed class AllowErrorsTests(AllowErrorsFixture run) : IClassFixture<AllowErrorsFixture>
{
    [Fact]
    public void Notebooks_with_errors_count_as_passed()
    {
        run.Run.ExpectExit(0);
        Assert.Contains("2 passed, 0 failed", run.Run.Stdout);
    }

    [Fact]
    public void After_a_compile_error_later_cells_run_with_the_state_from_before()
    {
        var nb = run.Executed("05-compile-error.ipynb");
        Assert.Equal("(1,9): error CS0029: Cannot implicitly convert type 'string' to 'int'", Evalue(nb.Error(2)));
        Assert.Equal(3, nb.ExecutionCount(3));
        Assert.Equal("state from cell 1\n", nb.Stream(3));
        Assert.DoesNotContain("stale", nb.Stream(3));
    }

    [Fact]
    public void After_an_exception_later_cells_run_and_see_variables_set_before_the_throw()
    {
        var nb = run.Executed("06-exception.ipynb");
        Assert.Equal("System.ArgumentOutOfRangeException", Ename(nb.Error(1)));
        Assert.Equal("about to fail\n", nb.Stream(1));
        Assert.Equal(2, nb.ExecutionCount(2));
        Assert.Equal("items: 3\n", nb.Stream(2));
    }

    [Fact]
    public void The_recorded_errors_are_valid_nbformat()
    {
        Jupyter.Validate(run.Ws.PathOf("executed/05-compile-error.ipynb"), run.Ws.PathOf("executed/06-exception.ipynb"));
    }
}
