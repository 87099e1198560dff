using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CvNotebooks.Charts;
using CvNotebooks.Display;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

/// Charts as the notebook shows them (value.ToDisplayString("text/html"), as VS Code's kernel and cvnb do).
/// The tests of one class run one after another, which matters here: whether a chart carries plotly.js
/// depends on the charts shown before it in the session (PlotlyJs).
public class ChartTests : IDisposable
{
    public ChartTests()
    {
        ImageFormatters.Register();
        PlotlyJs.Inclusion = PlotlyJsInclusion.OncePerSession;
        PlotlyJs.Reset();
    }

    public void Dispose()
    {
        PlotlyJs.Inclusion = PlotlyJsInclusion.OncePerSession;
        PlotlyJs.Reset();
    }

    private static string Html(object value) => value.ToDisplayString(HtmlFormatter.MimeType);

    /// The figure a chart's script draws: its "var data = ...;" and "var layout = ...;" lines.
    private static (JsonArray Data, JsonObject Layout) Figure(string html)
    {
        var data = Regex.Match(html, @"var data = (.*);\n");
        var layout = Regex.Match(html, @"var layout = (.*);\n");
        Assert.True(data.Success && layout.Success, "the chart's script holds its data and layout");
        return ((JsonArray)JsonNode.Parse(data.Groups[1].Value)!, (JsonObject)JsonNode.Parse(layout.Groups[1].Value)!);
    }

    [SkippableFact]
    public void The_first_chart_carries_plotly_js_inline_and_later_charts_reuse_it()
    {
        Skip.If(PlotlyJs.Find() is null, "plotly.js not found: it comes from the Plotly.NET package in the NuGet cache (restore it, or set CVNB_PLOTLY_JS)");
        var first = Html(Charts.Charts.Line(("train loss", new[] { 0.9, 0.5, 0.3 }), ("validation loss", new[] { 1.0, 0.7, 0.6 })).WithTitle("Loss"));
        var second = Html(Charts.Charts.Line(("accuracy", new[] { 0.5f, 0.8f, 0.9f })));

        Assert.Contains("data-cvnb-plotly=\"2.28.0\"", first);
        Assert.Contains("plotly.js v2.28.0", first);                     // the script itself, with its licence header
        Assert.True(first.Length > 3_000_000, "the first chart holds the whole of plotly.js");
        Assert.DoesNotContain("data-cvnb-plotly", second);
        Assert.True(second.Length < 5_000, $"a later chart is only its data; got {second.Length} characters");
        foreach (var html in new[] { first, second })
        {
            Assert.DoesNotContain("cdn.plot.ly", html);                  // offline: never a CDN
            Assert.DoesNotContain("<script src", html);
            Assert.Contains("window.Plotly.newPlot(", html);
        }
        // plotly.js defines window.Plotly before the chart's own script runs.
        Assert.True(first.IndexOf("data-cvnb-plotly", StringComparison.Ordinal) < first.IndexOf("var data", StringComparison.Ordinal));

        var (data, layout) = Figure(first);
        Assert.Equal(2, data.Count);
        Assert.Equal("train loss", data[0]!["name"]!.GetValue<string>());
        Assert.Equal([0.9, 0.5, 0.3], data[0]!["y"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([0, 1, 2], data[1]!["x"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal("Loss", layout["title"]!["text"]!.GetValue<string>());
        Assert.Equal("0.8", Figure(second).Data[0]!["y"]![1]!.ToJsonString());   // floats stay short

        PlotlyJs.Reset();                                                // e.g. after clearing the first chart's output
        Assert.Contains("data-cvnb-plotly", Html(Charts.Charts.Bar(["a", "b"], [1.0, 2.0])));
    }

    [SkippableFact]
    public void Inclusion_can_put_plotly_js_in_every_chart_or_in_none()
    {
        Skip.If(PlotlyJs.Find() is null, "plotly.js not found in the NuGet cache");
        PlotlyJs.Inclusion = PlotlyJsInclusion.EveryChart;
        Assert.Contains("data-cvnb-plotly", Html(Charts.Charts.Line(("a", new[] { 1.0 }))));
        Assert.Contains("data-cvnb-plotly", Html(Charts.Charts.Line(("b", new[] { 1.0 }))));
        PlotlyJs.Inclusion = PlotlyJsInclusion.Never;
        PlotlyJs.Reset();
        var none = Html(Charts.Charts.Line(("c", new[] { 1.0 })));
        Assert.DoesNotContain("data-cvnb-plotly", none);
        Assert.Contains("plotly.js is not loaded in this page", none);  // what the reader sees if nothing loads it
    }

    [Fact]
    public void The_inlined_script_cannot_be_captured_by_require_js_and_names_no_CDN()
    {
        var tag = PlotlyJs.ScriptTag("/* plotly.js v9.9.9 */ var u = \"https://cdn.plot.ly/\"; var s = '</script>';", "9.9.9");
        Assert.StartsWith("<script type=\"text/javascript\" data-cvnb-plotly=\"9.9.9\">(function (define, module, exports) {", tag);
        Assert.EndsWith("}).call(window);</script>", tag);
        Assert.DoesNotContain("cdn.plot.ly", tag);
        Assert.Single(Regex.Matches(tag, "</script", RegexOptions.IgnoreCase));
    }

    [Fact]
    public void Scatter_with_groups_makes_one_trace_per_class()
    {
        var chart = Charts.Charts.Scatter([1, 2, 3, 4], [4, 3, 2, 1], groups: [0, 1, 0, 2], groupNames: ["cat", "dog"], labels: ["a", "b", "c", "d"]);
        var (data, layout) = Figure(chart.Html(""));
        Assert.Equal(["cat", "dog", "class 2"], data.Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal([1.0, 3.0], data[0]!["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal(["a", "c"], data[0]!["text"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.True(layout["showlegend"]!.GetValue<bool>());
        Assert.Equal("PlotlyChart: scatter 'cat', scatter 'dog', scatter 'class 2'", chart.ToString());
        Assert.Throws<ArgumentException>(() => Charts.Charts.Scatter([1, 2], [1]));
    }

    [Fact]
    public void Bar_groups_series_side_by_side()
    {
        var chart = Charts.Charts.Bar(["cat", "dog", "bird"], ("train", [10.0, 20, 30]), ("test", [1.0, 2, 3]));
        var (data, layout) = Figure(chart.Html(""));
        Assert.Equal(2, data.Count);
        Assert.Equal("group", layout["barmode"]!.GetValue<string>());
        Assert.Equal(["cat", "dog", "bird"], data[1]!["x"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Histograms_are_binned_before_they_reach_the_page(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var pixels = TestImages.Tensor("fruits.jpg", device);
        var chart = Charts.Charts.Histogram(pixels, bins: 32, name: "fruits.jpg pixels", min: 0, max: 1);
        var (data, layout) = Figure(chart.Html(""));
        var counts = data[0]!["y"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(32, counts.Length);
        Assert.Equal(pixels.numel(), (long)counts.Sum());
        Assert.Equal(0, layout["bargap"]!.GetValue<int>());
        Assert.Contains($"({pixels.numel()} values)", layout["title"]!["text"]!.GetValue<string>());
        Assert.True(chart.Html("").Length < 10_000, "a histogram of 737,280 values is 32 numbers in the page");

        // The same counts as binning the values on the CPU.
        var values = pixels.cpu().flatten().data<float>().ToArray();
        var cpu = Figure(Charts.Charts.Histogram(values, bins: 32, min: 0, max: 1).Html("")).Data[0]!["y"]!.AsArray().Select(v => v!.GetValue<double>());
        Assert.Equal(cpu, counts);
    }

    [Fact]
    public void A_confusion_matrix_is_a_labelled_annotated_heatmap()
    {
        int[,] counts = { { 50, 2, 0 }, { 3, 40, 7 }, { 0, 5, 45 } };
        var chart = Charts.Charts.ConfusionMatrix(counts, ["cat", "dog", "bird"]);
        var html = Html(chart);
        var (data, layout) = Figure(html);
        var trace = data[0]!;
        Assert.Equal("heatmap", trace["type"]!.GetValue<string>());
        Assert.Equal(["cat", "dog", "bird"], trace["x"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["cat", "dog", "bird"], trace["y"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(7.0, trace["z"]![1]![2]!.GetValue<double>());
        Assert.Equal("%{z:d}", trace["texttemplate"]!.GetValue<string>());
        Assert.Equal("predicted", layout["xaxis"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal("true", layout["yaxis"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal("reversed", layout["yaxis"]!["autorange"]!.GetValue<string>());
        Assert.DoesNotContain("cdn.plot.ly", html);

        var normalised = Figure(Charts.Charts.ConfusionMatrix(counts, ["cat", "dog", "bird"], normalize: true).Html("")).Data[0]!;
        Assert.Equal(0.8, normalised["z"]![1]![1]!.GetValue<double>(), 6);

        using var scope = NewDisposeScope();
        var fromTensor = Charts.Charts.ConfusionMatrix(tensor(new long[] { 1, 2, 3, 4 }).reshape(2, 2), ["a", "b"]);
        Assert.Equal(3.0, Figure(fromTensor.Html("")).Data[0]!["z"]![1]![0]!.GetValue<double>());
        Assert.Throws<ArgumentException>(() => Charts.Charts.ConfusionMatrix(counts, ["a", "b"]));
    }

    [Fact]
    public void Heatmaps_of_tensors_and_layout_changes_make_new_charts()
    {
        using var scope = NewDisposeScope();
        var z = arange(6).reshape(1, 2, 3).to(ScalarType.Float32);
        var chart = Charts.Charts.Heatmap(z, showValues: true);
        var (data, _) = Figure(chart.Html(""));
        Assert.Equal(5.0, data[0]!["z"]![1]![2]!.GetValue<double>());
        var styled = chart.WithXAxis("column").WithYAxis("row", log: true).WithSize(400, 300).WithTitle("cost");
        var layout = Figure(styled.Html("")).Layout;
        Assert.Equal("column", layout["xaxis"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal("log", layout["yaxis"]!["type"]!.GetValue<string>());
        Assert.Equal(400, layout["width"]!.GetValue<int>());
        Assert.Contains("width:400px;height:300px", styled.Html(""));
        Assert.Null(Figure(chart.Html("")).Layout["width"]);            // the original is unchanged
        var both = Charts.Charts.Line(("a", new[] { 1.0, 2 })).Add(Charts.Charts.Line(("b", new[] { 2.0, 1 })));
        Assert.Equal(2, both.Traces.Count);
        Assert.Contains("\"data\":[", both.ToJson());
    }
}
