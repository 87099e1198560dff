using System.Text.Json.Nodes;
using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// papermill's parameters: `-p NAME=VALUE` becomes a cell tagged `injected-parameters` right after the cell
/// tagged `parameters`, each value typed as its declaration.
public sealed class ParameterRunFixture : IDisposable
{
    public const string Notebook = "09-parameters.ipynb";
    public const string Name = "say \"hi\" \\ bye";

    public Workspace Ws { get; } = new();
    public CvnbRun Run { get; }
    public string HashBefore { get; }

    public ParameterRunFixture()
    {
        Ws.Add(Notebook);
        HashBefore = Ws.Hash(Notebook);
        Run = Ws.Cvnb("execute", Notebook, "--output", "executed",
            "-p", "epochs=5", "-p", "lr=1e-3", "-p", "name=" + Name, "--parameter", "fast=true");
    }

    public void Dispose() => Ws.Dispose();
}

public sealed class ParameterTests(ParameterRunFixture run) : IClassFixture<ParameterRunFixture>
{
    private Ipynb Executed => Load(run.Ws.PathOf("executed/" + ParameterRunFixture.Notebook));
    private Ipynb Source => Load(run.Ws.PathOf(ParameterRunFixture.Notebook));

    [Fact]
    public void Values_reach_the_notebook_typed_as_declared()
    {
        run.Run.ExpectExit(0);
        // The printing cell moved from 3 to 4: the injected cell is 3.
        Assert.Equal($"epochs=5:Int32\nlr=0.001:Double\nname={ParameterRunFixture.Name}:String\nfast=True:Boolean\n", Executed.Stream(4));
    }

    [Fact]
    public void The_injected_cell_is_tagged_and_placed_right_after_the_parameters_cell()
    {
        var nb = Executed;
        Assert.Equal(Source.Cells.Count + 1, nb.Cells.Count);
        Assert.Equal(2, nb.CellNumberWithTag("parameters"));
        Assert.Equal(3, nb.CellNumberWithTag("injected-parameters"));
        var injected = nb.Cell(3);
        Assert.Equal("code", injected["cell_type"]!.GetValue<string>());
        Assert.Equal("csharp", injected["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
        var source = Ipynb.Source(injected);
        Assert.Contains("int epochs = 5;", source);
        Assert.Contains("double lr = ", source);
        Assert.Contains("string name = \"say \\\"hi\\\" \\\\ bye\";", source);
        Assert.Contains("bool fast = true;", source);
        // The defaults ran first, then the injected values, then the rest.
        Assert.Equal([1, 2, 3], new[] { 2, 3, 4 }.Select(nb.ExecutionCount));
        Assert.Empty(nb.Outputs(3));
        Assert.True(JsonNode.DeepEquals(Source.Cell(2)["source"], nb.Cell(2)["source"]), "the parameters cell keeps its defaults");
    }

    [Fact]
    public void The_source_notebook_is_not_changed_and_the_result_validates()
    {
        Assert.Equal(run.HashBefore, run.Ws.Hash(ParameterRunFixture.Notebook));
        Jupyter.Validate(run.Ws.PathOf("executed/" + ParameterRunFixture.Notebook));
    }

    [Theory]
    [InlineData("epochs=three", "parameter 'epochs' is an int; 'three' is not one")]
    [InlineData("epochs=2.5", "parameter 'epochs' is an int; '2.5' is not one")]
    [InlineData("lr=fast", "parameter 'lr' is a double; 'fast' is not one")]
    [InlineData("fast=yes", "parameter 'fast' is a bool (true or false); 'yes' is not one")]
    [InlineData("learning_rate=0.1", "unknown parameter 'learning_rate'; the parameters cell declares epochs, lr, name, fast")]
    [InlineData("epochs", "-p takes NAME=VALUE, not 'epochs'")]
    public void A_bad_parameter_is_a_usage_error_before_anything_runs(string parameter, string message)
    {
        using var ws = new Workspace();
        ws.Add(ParameterRunFixture.Notebook);
        var before = ws.Hash(ParameterRunFixture.Notebook);

        var r = ws.Cvnb("execute", ParameterRunFixture.Notebook, "--output", "executed", "-p", parameter).ExpectExit(2);

        Assert.Contains(message, r.Stderr);
        Assert.False(ws.Exists("executed"), "nothing may be written for a usage error");
        Assert.Equal(before, ws.Hash(ParameterRunFixture.Notebook));
    }

    [Fact]
    public void A_parameter_given_twice_is_a_usage_error()
    {
        using var ws = new Workspace();
        ws.Add(ParameterRunFixture.Notebook);
        var r = ws.Cvnb("execute", ParameterRunFixture.Notebook, "-p", "epochs=1", "-p", "epochs=2").ExpectExit(2);
        Assert.Contains("parameter 'epochs' is given twice", r.Stderr);
    }

    [Fact]
    public void Parameters_for_a_notebook_without_a_parameters_cell_are_a_usage_error()
    {
        using var ws = new Workspace();
        ws.Add("05-compile-error.ipynb");
        var r = ws.Cvnb("execute", "05-compile-error.ipynb", "-p", "epochs=1").ExpectExit(2);
        Assert.Contains("05-compile-error.ipynb: parameters were given but no cell is tagged 'parameters'", r.Stderr);
        Assert.False(ws.Exists("artifacts"));
    }
}
