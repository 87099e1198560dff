using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// One `cvnb execute` over a folder of notebooks that must all pass, with --jobs 2, --junit and --html;
/// the tests below assert on what that one run wrote.
public sealed class PassingRunFixture : IDisposable
{
    public Workspace Ws { get; } = new();
    public CvnbRun Run { get; }
    public Dictionary<string, string> HashesBefore { get; }

    /// Source (inside course/) -> executed copy (inside executed/): the folder's relative paths are kept.
    public static readonly string[] Notebooks =
    [
        "basics/01-state-and-output.ipynb",
        "basics/02-magics.ipynb",
        "basics/03-tags.ipynb",
        "09-parameters.ipynb",
        "10-legacy-format.ipynb",
        "packages/11-opencv.ipynb",
        "packages/12-dll-reference.ipynb",
        "20-all-skipped.ipynb",
    ];

    public PassingRunFixture()
    {
        foreach (var nb in Notebooks) Ws.Add(Path.GetFileName(nb), "course/" + nb);
        // `#r "xunit.assert.dll"` in 12-dll-reference: an assembly the runner does not carry, beside the notebook.
        Ws.AddFile(Path.Combine(AppContext.BaseDirectory, "xunit.assert.dll"), "course/packages/xunit.assert.dll");
        HashesBefore = Ws.Hashes(Ws.Files().Where(f => f.StartsWith("course/", StringComparison.Ordinal)).ToArray());
        Run = Ws.Cvnb("execute", "course", "--output", "executed", "--jobs", "2", "--junit", "reports/junit.xml", "--html", "site");
    }

    public Ipynb Executed(string notebook) => Load(Ws.PathOf("executed/" + notebook));
    public Ipynb Source(string notebook) => Load(Ws.PathOf("course/" + notebook));

    public void Dispose() => Ws.Dispose();
}

public sealed class PassingRunTests(PassingRunFixture run) : IClassFixture<PassingRunFixture>
{
    private const string Basics = "basics/01-state-and-output.ipynb";
    private const string Magics = "basics/02-magics.ipynb";
    private const string Tags = "basics/03-tags.ipynb";

    [Fact]
    public void Every_notebook_passes_and_the_command_exits_0()
    {
        run.Run.ExpectExit(0);
        Assert.Contains("8 passed, 0 failed", run.Run.Stdout);
        foreach (var nb in PassingRunFixture.Notebooks)
            Assert.Contains($"PASS {nb}", run.Run.Stdout);
        Assert.DoesNotContain("FAILED", run.Run.Stderr);
    }

    [Fact]
    public void Executed_copies_keep_the_folder_layout_under_the_output_folder()
    {
        var written = run.Ws.Files().Where(f => f.StartsWith("executed/", StringComparison.Ordinal)).ToList();
        Assert.Equal(PassingRunFixture.Notebooks.Select(n => "executed/" + n).Order(StringComparer.Ordinal), written);
    }

    [Fact]
    public void Sources_are_byte_identical_afterwards_and_nothing_is_added_beside_them()
    {
        var sources = run.Ws.Files().Where(f => f.StartsWith("course/", StringComparison.Ordinal)).ToArray();
        Assert.Equal(run.HashesBefore.Keys.Order(StringComparer.Ordinal), sources);
        Assert.Equal(run.HashesBefore, run.Ws.Hashes(sources));
    }

    [Fact]
    public void Variables_a_class_and_a_using_carry_from_cell_to_cell()
    {
        var nb = run.Executed(Basics);
        // cell 4 uses StringBuilder (using in cell 2), greeting and counter (cell 2); cell 5 uses Point (cell 3).
        Assert.Equal("hello, world\ncounter = 42\n", nb.Stream(4));
        Assert.Contains("Point(1, 2)", Data(nb.Outputs(5)[0], "text/html"));
        Assert.Equal(["stream", "stream"], nb.OutputTypes(4));
    }

    [Fact]
    public void Console_output_becomes_stdout_and_stderr_stream_outputs()
    {
        var nb = run.Executed(Basics);
        var outputs = nb.Outputs(4);
        Assert.Equal("stdout", outputs[0]["name"]!.GetValue<string>());
        Assert.Equal("stderr", outputs[1]["name"]!.GetValue<string>());
        Assert.Equal("a warning on stderr\n", nb.Stream(4, "stderr"));
        // Stored as nbformat's list of lines.
        Assert.Equal(["hello, world\n", "counter = 42\n"], outputs[0]["text"]!.AsArray().Select(l => l!.GetValue<string>()));
    }

    [Fact]
    public void Display_and_the_Display_extension_give_display_data_and_a_trailing_expression_gives_execute_result()
    {
        var nb = run.Executed(Basics);

        var shown = Assert.Single(nb.Outputs(5));
        Assert.Equal("display_data", shown["output_type"]!.GetValue<string>());
        Assert.Contains("<td>X</td>", Data(shown, "text/html"));
        Assert.Empty(shown["metadata"]!.AsObject());

        var extension = Assert.Single(nb.Outputs(6));
        Assert.Equal("display_data", extension["output_type"]!.GetValue<string>());
        Assert.Equal("shown by the Display extension", Data(extension, "text/plain"));

        var result = Assert.Single(nb.Outputs(7));
        Assert.Equal("execute_result", result["output_type"]!.GetValue<string>());
        Assert.Contains("<pre>84</pre>", Data(result, "text/html"));
        Assert.Equal(6, result["execution_count"]!.GetValue<int>());
    }

    [Fact]
    public void Outputs_of_one_cell_keep_their_order()
    {
        var nb = run.Executed(Basics);
        Assert.Equal(["stream", "display_data", "execute_result"], nb.OutputTypes(8));
        Assert.Equal("first\n", nb.Stream(8));
        Assert.Equal("second", Data(nb.Outputs(8)[1], "text/plain"));
        Assert.Equal("third", Data(nb.Outputs(8)[2], "text/plain"));
        Assert.Equal(7, nb.Outputs(8)[2]["execution_count"]!.GetValue<int>());
    }

    [Fact]
    public void Execution_counts_number_the_code_cells_that_ran_in_order()
    {
        var nb = run.Executed(Basics);
        Assert.Null(nb.Cell(1)["execution_count"]); // markdown cells have none at all
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], Enumerable.Range(2, 7).Select(nb.ExecutionCount));
    }

    [Fact]
    public void Unknown_metadata_at_notebook_and_cell_level_survives_and_the_layout_stays_polyglot()
    {
        var source = run.Source(Basics);
        var executed = run.Executed(Basics);
        Assert.True(JsonNode.DeepEquals(source.Metadata, executed.Metadata), executed.Metadata.ToJsonString());
        Assert.Equal(source.Cells.Count, executed.Cells.Count);
        for (var i = 0; i < source.Cells.Count; i++)
        {
            Assert.True(JsonNode.DeepEquals(source.Cells[i]["metadata"], executed.Cells[i]["metadata"]), $"cell {i + 1} metadata changed");
            Assert.Equal(Ipynb.Source(source.Cells[i]), Ipynb.Source(executed.Cells[i]));
            Assert.True(JsonNode.DeepEquals(source.Cells[i]["source"], executed.Cells[i]["source"]), $"cell {i + 1} source lines changed");
        }
        Assert.True(JsonNode.DeepEquals(source.Cells[0], executed.Cells[0]), "a markdown cell must be untouched");
        Assert.Equal(2, executed.Cell(2)["metadata"]!["cvnb_test"]!["level"]!.GetValue<int>());
        Assert.Equal(4, executed.Root["nbformat"]!.GetValue<int>());
        Assert.Equal(2, executed.Root["nbformat_minor"]!.GetValue<int>());

        var text = run.Ws.Read("executed/" + Basics);
        Assert.StartsWith("{\n \"cells\": [\n  {\n   \"cell_type\": \"markdown\",", text);
        Assert.EndsWith("}\n", text);
    }

    [Fact]
    public void A_notebook_where_nothing_runs_is_written_back_byte_identical()
    {
        Assert.Equal(run.Ws.Read("course/20-all-skipped.ipynb"), run.Ws.Read("executed/20-all-skipped.ipynb"));
    }

    [Fact]
    public void Time_magic_reports_wall_time_after_the_cells_own_output()
    {
        var nb = run.Executed(Magics);
        Assert.Equal(["stream", "display_data"], nb.OutputTypes(2));
        Assert.Equal("5050\n", nb.Stream(2));
        Assert.Matches(new Regex(@"^Wall time: \d+(\.\d+)?ms$"), Data(nb.Outputs(2)[1], "text/plain")!);
    }

    [Fact]
    public void Html_magic_markdown_magic_csharp_magic_and_an_html_kernel_cell_run()
    {
        var nb = run.Executed(Magics);
        Assert.Equal("<b id=\"from-html-magic\">bold from the html magic</b>", Data(Assert.Single(nb.Outputs(3)), "text/html"));

        var csharp = Assert.Single(nb.Outputs(4));
        Assert.Equal("execute_result", csharp["output_type"]!.GetValue<string>());
        Assert.Contains("<pre>10100</pre>", Data(csharp, "text/html"));

        var htmlKernel = Assert.Single(nb.Outputs(5));
        Assert.Equal("display_data", htmlKernel["output_type"]!.GetValue<string>());
        Assert.Equal("<p id=\"from-html-kernel\">a cell in the HTML kernel</p>", Data(htmlKernel, "text/html"));

        Assert.Equal("**bold** from the markdown magic", Data(Assert.Single(nb.Outputs(6)), "text/markdown"));

        // Back in C# after the other kernels, with the state of the #!csharp cell.
        Assert.Equal("still C#: 10100\n", nb.Stream(7));
        Assert.Equal([1, 2, 3, 4, 5, 6], Enumerable.Range(2, 6).Select(nb.ExecutionCount));
    }

    [Fact]
    public void A_raises_exception_cell_that_raises_keeps_its_error_and_the_notebook_goes_on()
    {
        var nb = run.Executed(Tags);
        var error = nb.Error(3);
        Assert.Equal("System.InvalidOperationException", Ename(error));
        Assert.Equal("expected failure (cell line 1)", Evalue(error));

        var compile = nb.Error(5);
        Assert.Equal("(1,18): error CS0029: Cannot implicitly convert type 'string' to 'int'", Evalue(compile));

        Assert.Equal("before = 1\n", nb.Stream(6));
    }

    [Fact]
    public void A_skip_execution_cell_is_left_untouched_with_its_old_outputs_and_count()
    {
        var source = run.Source(Tags);
        var executed = run.Executed(Tags);
        Assert.True(JsonNode.DeepEquals(source.Cell(4), executed.Cell(4)), executed.Cell(4).ToJsonString());
        Assert.Equal(7, executed.ExecutionCount(4));
        Assert.Equal("old output kept\n", executed.Stream(4));
        // It did not run: the next cell still sees before = 1, and it took no execution count.
        Assert.Equal("before = 1\n", executed.Stream(6));
        Assert.Equal([1, 2, 3, 4], new[] { 2, 3, 5, 6 }.Select(executed.ExecutionCount));
    }

    [Fact]
    public void Parameters_cell_defaults_are_used_when_no_p_is_given()
    {
        var nb = run.Executed("09-parameters.ipynb");
        Assert.Equal(run.Source("09-parameters.ipynb").Cells.Count, nb.Cells.Count);
        Assert.DoesNotContain(nb.Cells, c => Ipynb.Tags(c).Contains("injected-parameters"));
        Assert.Equal("epochs=3:Int32\nlr=0.01:Double\nname=x:String\nfast=False:Boolean\n", nb.Stream(3));
    }

    [Fact]
    public void The_older_dotnet_interactive_language_metadata_is_read_and_kept()
    {
        var nb = run.Executed("10-legacy-format.ipynb");
        Assert.Contains("<pre>10</pre>", Data(Assert.Single(nb.Outputs(2)), "text/html"));
        Assert.Equal("<i>legacy html</i>", Data(Assert.Single(nb.Outputs(3)), "text/html"));
        Assert.Equal("OLD FORMAT\n", nb.Stream(4));
        var source = run.Source("10-legacy-format.ipynb");
        Assert.True(JsonNode.DeepEquals(source.Metadata, nb.Metadata));
        for (var i = 0; i < source.Cells.Count; i++)
            Assert.True(JsonNode.DeepEquals(source.Cells[i]["metadata"], nb.Cells[i]["metadata"]), $"cell {i + 1} metadata changed");
        Assert.Equal(4, nb.Root["nbformat_minor"]!.GetValue<int>());
    }

    [Fact]
    public void Nuget_packages_restore_and_their_native_library_loads()
    {
        var nb = run.Executed("packages/11-opencv.ipynb");
        var installed = Data(Assert.Single(nb.Outputs(2)), "text/html")!;
        Assert.Contains("OpenCvSharp4, 4.13.0.20260627", installed);
        Assert.Contains("OpenCvSharp4.official.runtime.linux-x64, 4.13.0.20260627", installed);
        // Cv2.GaussianBlur and Cv2.Mean run in libOpenCvSharpExtern.so.
        Assert.Equal("4x6 channels=3 mean=10,20,30\n", nb.Stream(3));
        Assert.Contains("True", Data(Assert.Single(nb.Outputs(4)), "text/html"));
    }

    [Fact]
    public void An_assembly_referenced_by_a_relative_path_loads_from_the_notebooks_folder()
    {
        var nb = run.Executed("packages/12-dll-reference.ipynb");
        Assert.Empty(nb.Outputs(2));
        Assert.Equal("xunit.assert", Data(Assert.Single(nb.Outputs(3)), "text/plain"));
    }

    [Fact]
    public void Junit_report_counts_every_notebook()
    {
        var doc = XDocument.Load(run.Ws.PathOf("reports/junit.xml"));
        var suite = Assert.Single(doc.Root!.Elements("testsuite"));
        Assert.Equal("8", (string?)suite.Attribute("tests"));
        Assert.Equal("0", (string?)suite.Attribute("failures"));
        Assert.Equal("0", (string?)suite.Attribute("errors"));
        Assert.Equal("1", (string?)suite.Attribute("skipped")); // 20-all-skipped: every code cell was skipped
        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(8, cases.Count);
        Assert.All(cases, c => Assert.Null(c.Element("failure")));
        var skipped = Assert.Single(cases, c => c.Element("skipped") is not null);
        Assert.Equal("20-all-skipped", (string?)skipped.Attribute("name"));
        Assert.Contains(cases, c => (string?)c.Attribute("classname") == "basics" && (string?)c.Attribute("name") == "01-state-and-output");
        Assert.Contains(cases, c => (string?)c.Attribute("classname") == "packages" && (string?)c.Attribute("name") == "11-opencv");
    }

    [Fact]
    public void Html_site_has_an_index_and_a_page_per_notebook()
    {
        var index = run.Ws.Read("site/index.html");
        foreach (var nb in PassingRunFixture.Notebooks)
        {
            var page = Path.ChangeExtension(nb, ".html");
            Assert.True(run.Ws.Exists("site/" + page), $"site/{page} is missing");
            Assert.Contains($"href=\"{page}\"", index);
        }
        Assert.Contains("hello, world", run.Ws.Read("site/basics/01-state-and-output.html"));
    }

    [Fact]
    public void Executed_notebooks_validate_with_nbformat_and_convert_with_nbconvert()
    {
        var files = PassingRunFixture.Notebooks.Select(n => run.Ws.PathOf("executed/" + n)).ToArray();
        Jupyter.Validate(files);
        var html = Jupyter.ConvertToHtml(run.Ws.PathOf("nbconvert"), files);
        Assert.Contains("hello, world", File.ReadAllText(html[0]));
    }

    [Fact]
    public void Cvnb_validate_accepts_the_executed_polyglot_notebooks()
    {
        var files = PassingRunFixture.Notebooks.Where(n => !n.Contains("legacy")).Select(n => "executed/" + n).ToArray();
        var v = run.Ws.Cvnb(["validate", .. files]).ExpectExit(0);
        Assert.Contains($"{files.Length} valid, 0 invalid", v.Stdout);
    }

    [Fact]
    public void No_kernel_process_outlives_the_run()
    {
        Assert.Empty(Processes.LeftIn(run.Ws.Root));
    }
}
