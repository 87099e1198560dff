using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// The one timing-dependent test: it runs alone (after the parallel ones), so the cell's own start-up is not slowed
/// by other kernels, and its bounds are generous.
[CollectionDefinition(nameof(TimeoutCollection), DisableParallelization = true)]
public sealed class TimeoutCollection;

[Collection(nameof(TimeoutCollection))]
public sealed class TimeoutTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void A_cell_that_never_ends_is_stopped_after_the_timeout_keeping_what_it_printed()
    {
        _ws.Add("13-hang.ipynb");
        var before = _ws.Hash("13-hang.ipynb");

        var run = _ws.Cvnb("execute", "13-hang.ipynb", "--output", "executed", "--timeout", "3").ExpectExit(1);

        Assert.InRange(run.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));
        Assert.Contains("0 passed, 1 failed", run.Stdout);
        Assert.Contains("FAILED 13-hang.ipynb: cell 1: Timeout: cell 1 did not finish within 3 s; the kernel was stopped.", run.Stderr);

        var nb = Load(_ws.PathOf("executed/13-hang.ipynb"));
        Assert.Equal(["stream", "error"], nb.OutputTypes(1));
        Assert.Equal("before the loop\n", nb.Stream(1));
        var error = nb.Error(1);
        Assert.Equal("TimeoutError", Ename(error));
        Assert.Equal("Timeout: cell 1 did not finish within 3 s; the kernel was stopped.", Evalue(error));
        Assert.Null(nb.ExecutionCount(2));
        Assert.Empty(nb.Outputs(2));

        // The kernel spinning in `while (true) { }` was killed, not left behind.
        Assert.Empty(Processes.LeftIn(_ws.Root));
        Assert.Equal(before, _ws.Hash("13-hang.ipynb"));
        Jupyter.Validate(_ws.PathOf("executed/13-hang.ipynb"));
    }
}
