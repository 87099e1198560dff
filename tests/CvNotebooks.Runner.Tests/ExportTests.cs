using System.Text.RegularExpressions;
using System.Xml.Linq;
using CvNotebooks.Runner.Documents;
using CvNotebooks.Runner.Execution;
using CvNotebooks.Runner.Export;
using Xunit;

namespace CvNotebooks.Runner.Tests;

public sealed class ExportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cvnb-export-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    // A 1x1 PNG.
    private const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    private const string PlotlyCdnHtml =
        """<div id="c1"></div><script src="https://cdn.plot.ly/plotly-2.28.0.min.js" charset="utf-8"></script><script type="text/javascript">Plotly.newPlot('c1', [{"type":"scatter","x":[1,2],"y":[3,1]}], {});</script>""";

    private const string PlotlyRequireHtml =
        """<div id="c2"></div><script type="text/javascript">var f = function() { var r = requirejs.config({context:'fsharp-plotly',paths:{plotly:'https://cdn.plot.ly/plotly-2.28.0.min'}}) || require; r(['plotly'], function(Plotly) { Plotly.newPlot('c2', [], {}); }); }; f();</script>""";

    private static string NotebookJson() => $$"""
        {
         "cells": [
          { "cell_type": "markdown", "metadata": {}, "source": ["# Edges and gradients\n", "\n", "| a | b |\n", "|---|---|\n", "| 1 | 2 |\n"] },
          { "cell_type": "code", "execution_count": 1, "metadata": { "polyglot_notebook": { "kernelName": "csharp" } },
            "source": ["var html = \"<script>alert(1)</script>\";\n", "Console.WriteLine(html);"],
            "outputs": [
              { "output_type": "stream", "name": "stdout", "text": ["<script>alert(1)</script>\n"] },
              { "output_type": "stream", "name": "stderr", "text": "warning: careful\n" }
            ] },
          { "cell_type": "code", "execution_count": 2, "metadata": {}, "source": "display(image);",
            "outputs": [
              { "output_type": "display_data", "metadata": {}, "data": { "image/png": "{{Png}}", "text/plain": "Image" } },
              { "output_type": "display_data", "metadata": {}, "data": { "text/html": ["<table class=\"tbl\">", "<tr><td>42</td></tr></table>"], "text/plain": "table" } }
            ] },
          { "cell_type": "code", "execution_count": 3, "metadata": {}, "source": "1 + 1",
            "outputs": [ { "output_type": "execute_result", "execution_count": 3, "metadata": {}, "data": { "text/plain": ["2 < 3"] } } ] },
          { "cell_type": "code", "execution_count": 4, "metadata": {}, "source": "chart",
            "outputs": [
              { "output_type": "display_data", "metadata": {}, "data": { "text/html": {{System.Text.Json.JsonSerializer.Serialize(PlotlyCdnHtml)}} } },
              { "output_type": "display_data", "metadata": {}, "data": { "text/html": {{System.Text.Json.JsonSerializer.Serialize(PlotlyRequireHtml)}} } }
            ] },
          { "cell_type": "code", "execution_count": 5, "metadata": {}, "source": "Check.That(false, \"edges found\");",
            "outputs": [
              { "output_type": "error", "ename": "CheckFailedException", "evalue": "\u001b[31mcheck failed: edges found\u001b[0m",
                "traceback": ["\u001b[31mCheckFailedException: check failed: edges found\u001b[0m", "   at Submission#5 line 1"] }
            ] },
          { "cell_type": "markdown", "metadata": {}, "source": "## Checks" }
         ],
         "metadata": { "kernelspec": { "display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp" } },
         "nbformat": 4,
         "nbformat_minor": 5
        }
        """;

    private static NotebookResult FailedResult(string relativePath = "01-basics/02-edges.ipynb") => new()
    {
        SourcePath = "notebooks/" + relativePath,
        RelativePath = relativePath,
        Executed = Notebook.Parse(NotebookJson(), relativePath),
        Failure = "cell 6: CheckFailedException: check failed: edges found",
        Duration = TimeSpan.FromSeconds(3.4),
        Cells =
        {
            new CellResult(2, CellStatus.Succeeded, TimeSpan.FromMilliseconds(120)),
            new CellResult(3, CellStatus.Succeeded, TimeSpan.FromMilliseconds(80)),
            new CellResult(4, CellStatus.Succeeded, TimeSpan.FromMilliseconds(5)),
            new CellResult(5, CellStatus.Succeeded, TimeSpan.FromMilliseconds(40)),
            new CellResult(6, CellStatus.Failed, TimeSpan.FromMilliseconds(3), "CheckFailedException: check failed: edges found"),
        },
    };

    private static NotebookResult PassedResult(string relativePath = "00-intro.ipynb") => new()
    {
        SourcePath = "notebooks/" + relativePath,
        RelativePath = relativePath,
        Executed = Notebook.Parse("""
            { "cells": [ { "cell_type": "markdown", "metadata": {}, "source": "# Welcome" },
                         { "cell_type": "code", "execution_count": 1, "metadata": {}, "source": "Console.WriteLine(1);",
                           "outputs": [ { "output_type": "stream", "name": "stdout", "text": "1\n" } ] } ],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5 }
            """, relativePath),
        Duration = TimeSpan.FromMilliseconds(600),
        Cells = { new CellResult(2, CellStatus.Succeeded, TimeSpan.FromMilliseconds(30)) },
    };

    private static readonly PlotlyJs FakePlotly = new("/* plotly.js v2.28.0 */ window.Plotly = { newPlot: function () {} };", "2.28.0", "test");

    private string Read(string rel) => File.ReadAllText(Path.Combine(_dir, rel));

    [Fact]
    public void Page_escapes_code_source_and_stream_text()
    {
        var html = HtmlExporter.RenderNotebook(FailedResult().Executed!, "edges", FailedResult());

        Assert.Contains("var html = &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;;", html);
        Assert.Contains("<pre class=\"input\"><code>", html);
        Assert.Contains("In&nbsp;[1]:", html);
        Assert.DoesNotContain("<script>alert(1)</script>", html);
        Assert.Contains("class=\"output stream stdout\"><pre>&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("class=\"output stream stderr\"><pre>warning: careful", html);
    }

    [Fact]
    public void Page_renders_markdown_images_html_and_plain_results()
    {
        var html = HtmlExporter.RenderNotebook(FailedResult().Executed!, "edges", FailedResult());

        Assert.Matches(@"<h1[^>]*>Edges and gradients</h1>", html);
        Assert.Matches(@"<table>\s*<thead>\s*<tr>\s*<th>a</th>", html);
        Assert.Contains($"src=\"data:image/png;base64,{Png}\"", html);
        Assert.Contains("<table class=\"tbl\"><tr><td>42</td></tr></table>", html);
        Assert.DoesNotContain(">Image<", html);
        Assert.Contains("<pre class=\"plain\">2 &lt; 3</pre>", html);
    }

    [Fact]
    public void Error_output_is_a_red_box_without_ansi_codes_and_the_failed_cell_is_marked()
    {
        var html = HtmlExporter.RenderNotebook(FailedResult().Executed!, "edges", FailedResult());

        Assert.Contains("<div class=\"output error\"><div class=\"ename\">CheckFailedException</div>", html);
        Assert.Contains("check failed: edges found", html);
        Assert.DoesNotContain("\u001b", html, StringComparison.Ordinal);
        Assert.DoesNotContain("[31m", html);
        Assert.Contains("<section class=\"cell code failed\" id=\"cell-6\">", html);
        Assert.Contains("<div class=\"banner\">", html);
        Assert.Contains("href=\"#cell-6\"", html);
    }

    [Fact]
    public void Site_has_an_index_with_status_durations_and_relative_links_to_nested_pages()
    {
        HtmlExporter.WriteSite(_dir, [PassedResult(), FailedResult()], "Course", () => FakePlotly);

        var index = Read("index.html");
        Assert.Contains("1 passed, 1 failed", index);
        Assert.Contains("href=\"00-intro.html\"", index);
        Assert.Contains("href=\"01-basics/02-edges.html\"", index);
        Assert.Contains("cell 6: CheckFailedException: check failed: edges found", index);
        Assert.Contains("3.4 s", index);
        Assert.Contains("600 ms", index);
        Assert.Contains("total time 4.0 s", index);
        Assert.Contains("5 code / 7 cells", index);
        Assert.Contains("1 failed", index);

        Assert.True(File.Exists(Path.Combine(_dir, "00-intro.html")));
        var nested = Read("01-basics/02-edges.html");
        Assert.Contains("href=\"../index.html\"", nested);
        Assert.DoesNotContain("href=\"/", nested);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Plotly_cdn_references_point_at_the_local_asset_when_plotly_js_is_available()
    {
        HtmlExporter.WriteSite(_dir, [PassedResult(), FailedResult()], "Course", () => FakePlotly);

        Assert.Equal(FakePlotly.Script, Read("assets/plotly.min.js"));
        var page = Read("01-basics/02-edges.html");
        Assert.DoesNotContain("cdn.plot.ly", page);
        Assert.Contains("<script src=\"../assets/plotly.min.js\"", page);
        Assert.Contains("paths:{plotly:'../assets/plotly.min'}", page);
        Assert.Contains("window.requirejs = req", page);
        // Loaded once, in the head, before any output.
        Assert.Single(Regex.Matches(page, "<script src=\"../assets/plotly.min.js\""));
        Assert.True(page.IndexOf("assets/plotly.min.js", StringComparison.Ordinal) < page.IndexOf("<main>", StringComparison.Ordinal));

        // Pages without charts do not load it.
        Assert.DoesNotContain("plotly", Read("00-intro.html"));
        Assert.Contains("charts use plotly.js 2.28.0", Read("index.html"));
    }

    [Fact]
    public void Public_WriteSite_takes_plotly_js_from_a_given_path()
    {
        var js = Path.Combine(_dir, "given", "plotly.min.js");
        Directory.CreateDirectory(Path.GetDirectoryName(js)!);
        File.WriteAllText(js, FakePlotly.Script);
        var site = Path.Combine(_dir, "site");

        HtmlExporter.WriteSite(site, [FailedResult()], "Course", plotlyJsPath: js);

        Assert.Equal(FakePlotly.Script, File.ReadAllText(Path.Combine(site, "assets", "plotly.min.js")));
        Assert.DoesNotContain("cdn.plot.ly", File.ReadAllText(Path.Combine(site, "01-basics", "02-edges.html")));
        Assert.Throws<FileNotFoundException>(() => HtmlExporter.WriteSite(site, [FailedResult()], plotlyJsPath: Path.Combine(_dir, "missing.js")));
    }

    [Fact]
    public void Without_plotly_js_pages_still_render_and_the_index_says_charts_need_network()
    {
        HtmlExporter.WriteSite(_dir, [FailedResult()], "Course", () => null);

        Assert.Contains("plotly.js not found: charts need network", Read("index.html"));
        Assert.Contains("https://cdn.plot.ly/plotly-2.28.0.min.js", Read("01-basics/02-edges.html"));
        Assert.False(File.Exists(Path.Combine(_dir, "assets", "plotly.min.js")));
    }

    [Fact]
    public void A_second_export_removes_pages_the_first_wrote_and_leaves_other_files_alone()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "keep.txt"), "mine");
        HtmlExporter.WriteSite(_dir, [PassedResult(), FailedResult()], "Course", () => FakePlotly);
        Assert.True(File.Exists(Path.Combine(_dir, "01-basics", "02-edges.html")));

        HtmlExporter.WriteSite(_dir, [PassedResult()], "Course", () => FakePlotly);

        Assert.False(Directory.Exists(Path.Combine(_dir, "01-basics")));
        Assert.False(File.Exists(Path.Combine(_dir, "assets", "plotly.min.js")));
        Assert.True(File.Exists(Path.Combine(_dir, "00-intro.html")));
        Assert.True(File.Exists(Path.Combine(_dir, "keep.txt")));
        Assert.DoesNotContain("02-edges", Read("index.html"));
    }

    [Fact]
    public void A_notebook_that_could_not_be_read_is_listed_without_a_page()
    {
        var broken = new NotebookResult { SourcePath = "x/bad.ipynb", RelativePath = "bad.ipynb", Failure = "bad.ipynb: not valid JSON (line 1, byte 1)" };
        HtmlExporter.WriteSite(_dir, [broken, PassedResult()], "Course", () => null);

        var index = Read("index.html");
        Assert.Contains("not valid JSON", index);
        Assert.DoesNotContain("href=\"bad.html\"", index);
        Assert.False(File.Exists(Path.Combine(_dir, "bad.html")));
    }

    [Fact]
    public void Plotly_js_is_read_from_the_Plotly_NET_package_when_it_is_in_the_NuGet_cache()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var dll = Path.Combine(packages, "plotly.net", "6.0.0", "lib", "netstandard2.0", "Plotly.NET.dll");
        if (!File.Exists(dll)) return; // Plotly.NET 6.0.0 not restored on this machine: nothing to read.

        var js = HtmlExporter.LocatePlotlyJs(dll);
        var found = HtmlExporter.LocatePlotlyJs(); // this process has no Plotly.NET loaded: the NuGet folder is searched

        Assert.NotNull(found);
        Assert.Contains("plotly.net", found.Origin, StringComparison.OrdinalIgnoreCase);

        Assert.NotNull(js);
        Assert.Equal("2.28.0", js.Version);
        Assert.True(js.Script.Length > 1_000_000);
        Assert.Contains("plotly.js v2.28.0", js.Script[..2000]);
        Assert.Contains("newPlot", js.Script);
    }

    [Fact]
    public void JUnit_counts_tests_failures_and_carries_the_failing_cell_error()
    {
        var broken = new NotebookResult { SourcePath = "bad.ipynb", RelativePath = "bad.ipynb", Failure = "bad.ipynb: file not found" };
        var path = Path.Combine(_dir, "reports", "junit.xml");

        JUnitWriter.Write(path, [PassedResult(), FailedResult(), broken], "course");

        var doc = XDocument.Load(path);
        var suites = doc.Root!;
        Assert.Equal("testsuites", suites.Name.LocalName);
        var suite = Assert.Single(suites.Elements("testsuite"));
        Assert.Equal("course", (string?)suite.Attribute("name"));
        Assert.Equal("3", (string?)suite.Attribute("tests"));
        Assert.Equal("1", (string?)suite.Attribute("failures"));
        Assert.Equal("1", (string?)suite.Attribute("errors"));
        Assert.Equal("0", (string?)suite.Attribute("skipped"));
        Assert.Equal("4.000", (string?)suite.Attribute("time"));
        Assert.Equal("3", (string?)suites.Attribute("tests"));

        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(["course", "01-basics", "course"], cases.Select(c => (string?)c.Attribute("classname")));
        Assert.Equal(["00-intro", "02-edges", "bad"], cases.Select(c => (string?)c.Attribute("name")));
        Assert.Null(cases[0].Element("failure"));
        Assert.Equal("0.600", (string?)cases[0].Attribute("time"));

        var failure = cases[1].Element("failure")!;
        Assert.Equal("cell 6: CheckFailedException: check failed: edges found", (string?)failure.Attribute("message"));
        Assert.Equal("CheckFailedException", (string?)failure.Attribute("type"));
        Assert.Contains("Check.That(false, \"edges found\");", failure.Value);
        Assert.Contains("at Submission#5 line 1", failure.Value);
        Assert.DoesNotContain("[31m", failure.Value);
        Assert.Contains("<script>alert(1)</script>", cases[1].Element("system-out")!.Value);
        Assert.Contains("warning: careful", cases[1].Element("system-err")!.Value);

        Assert.NotNull(cases[2].Element("error"));
        Assert.Equal("bad.ipynb: file not found", (string?)cases[2].Element("error")!.Attribute("message"));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    [Fact]
    public void JUnit_marks_a_notebook_whose_cells_were_all_skipped()
    {
        var r = PassedResult();
        r.Cells.Clear();
        r.Cells.Add(new CellResult(2, CellStatus.Skipped, TimeSpan.Zero));
        var path = Path.Combine(_dir, "junit.xml");

        JUnitWriter.Write(path, [r]);

        var suite = XDocument.Load(path).Root!.Element("testsuite")!;
        Assert.Equal("notebooks", (string?)suite.Attribute("name"));
        Assert.Equal("1", (string?)suite.Attribute("skipped"));
        Assert.NotNull(suite.Element("testcase")!.Element("skipped"));
    }
}
