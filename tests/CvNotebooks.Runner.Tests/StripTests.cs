using System.Text.Json.Nodes;
using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// `cvnb strip`: clear outputs (in place, as nbstripout does), or with --solutions write a student copy
/// without the cells tagged `solution` (as nbgrader does), never touching the teacher's source.
public sealed class StripTests : IDisposable
{
    private const string Exercises = "19-exercises.ipynb";
    private readonly Workspace _ws = new();

    public StripTests() => _ws.Add(Exercises);

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Strip_clears_outputs_and_counts_and_keeps_every_cell_and_its_metadata()
    {
        var before = Load(_ws.PathOf(Exercises));

        var r = _ws.Cvnb("strip", Exercises).ExpectExit(0);

        Assert.Contains($"stripped {Exercises}", r.Stdout);
        var after = Load(_ws.PathOf(Exercises));
        Assert.Equal(before.Cells.Count, after.Cells.Count);
        for (var i = 0; i < after.Cells.Count; i++)
        {
            var cell = after.Cells[i];
            Assert.True(JsonNode.DeepEquals(before.Cells[i]["metadata"], cell["metadata"]));
            Assert.True(JsonNode.DeepEquals(before.Cells[i]["source"], cell["source"]));
            if (cell["cell_type"]!.GetValue<string>() != "code") continue;
            Assert.Empty(cell["outputs"]!.AsArray());
            Assert.Null(Count(cell));
        }
        Assert.True(JsonNode.DeepEquals(before.Metadata, after.Metadata));
        Jupyter.Validate(_ws.PathOf(Exercises));
    }

    [Fact]
    public void Strip_solutions_without_output_is_refused_and_the_source_is_untouched()
    {
        var hash = _ws.Hash(Exercises);
        var r = _ws.Cvnb("strip", "--solutions", Exercises).ExpectExit(2);
        Assert.Contains("strip --solutions would delete the solutions from the source notebooks; give --output DIR", r.Stderr);
        Assert.Equal(hash, _ws.Hash(Exercises));
    }

    [Fact]
    public void Strip_solutions_writes_a_student_copy_without_solution_cells()
    {
        var hash = _ws.Hash(Exercises);

        var r = _ws.Cvnb("strip", "--solutions", "--output", "student", Exercises).ExpectExit(0);

        Assert.Contains("(1 solution cell(s) removed)", r.Stdout);
        Assert.Equal(hash, _ws.Hash(Exercises));
        var source = Load(_ws.PathOf(Exercises));
        var student = Load(_ws.PathOf("student/" + Exercises));
        Assert.Equal(source.Cells.Count - 1, student.Cells.Count);
        Assert.DoesNotContain(student.Cells, c => Tags(c).Contains("solution"));
        Assert.Contains(student.Cells, c => Tags(c).Contains("exercise"));
        Assert.DoesNotContain(student.Cells, c => Source(c).Contains("Enumerable.Range(1, 10).Sum()"));
        Assert.All(student.Cells.Where(c => c["cell_type"]!.GetValue<string>() == "code"), c =>
        {
            Assert.Empty(c["outputs"]!.AsArray());
            Assert.Null(Count(c));
        });
        Assert.True(JsonNode.DeepEquals(source.Metadata, student.Metadata));
        Jupyter.Validate(_ws.PathOf("student/" + Exercises));
    }

    [Fact]
    public void A_folder_is_stripped_into_output_keeping_relative_paths()
    {
        _ws.Add(Exercises, "course/week1/" + Exercises);
        var hash = _ws.Hash("course/week1/" + Exercises);

        _ws.Cvnb("strip", "--solutions", "--output", "student", "course").ExpectExit(0);

        Assert.True(_ws.Exists("student/week1/" + Exercises));
        Assert.Equal(hash, _ws.Hash("course/week1/" + Exercises));
    }

    [Fact]
    public void An_unreadable_notebook_stops_strip_before_anything_is_written()
    {
        _ws.Add("16-invalid-json.ipynb");
        var hash = _ws.Hash(Exercises);

        var r = _ws.Cvnb("strip", Exercises, "16-invalid-json.ipynb").ExpectExit(2);

        Assert.Contains("16-invalid-json.ipynb: not valid JSON", r.Stderr);
        Assert.Equal(hash, _ws.Hash(Exercises));
    }
}
