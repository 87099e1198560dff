using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// The curriculum's promise to instructors: `cvnb strip --solutions` turns a real notebook into a student copy
/// whose exercise cells remain and whose checks fail until the learner solves them.
public sealed class StudentCopyTests : IDisposable
{
    private const string Notebook = "01-basics.ipynb";
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CvNotebooks.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("CvNotebooks.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Student_copy_of_a_curriculum_notebook_keeps_the_exercise_and_fails_its_checks_until_solved()
    {
        _ws.AddFile(Path.Combine(RepoRoot(), "notebooks", "01-csharp", Notebook), Notebook);
        var teacher = Load(_ws.PathOf(Notebook));
        Assert.Contains(teacher.Cells, c => Tags(c).Contains("solution"));

        _ws.Cvnb("strip", "--solutions", "--output", "student", Notebook).ExpectExit(0);

        var student = Load(_ws.PathOf("student/" + Notebook));
        Assert.DoesNotContain(student.Cells, c => Tags(c).Contains("solution"));
        Assert.Equal(teacher.Cells.Count(c => Tags(c).Contains("exercise")), student.Cells.Count(c => Tags(c).Contains("exercise")));

        var run = _ws.Cvnb("execute", "student/" + Notebook, "--output", "executed").ExpectExit(1);
        Assert.Contains("your turn", run.Stderr + run.Stdout);
    }
}
