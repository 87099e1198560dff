using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CvNotebooks.Charts;

/// An interactive chart: plotly.js traces and layout, shown as HTML through the Formatting API (text/html),
/// so it appears in VS Code and in cvnb alike and renders offline (see PlotlyJs for how plotly.js travels).
///
/// Built by the Charts helpers; each With* method returns a new chart, so a chart can be reused and varied.
/// Traces and Layout are plotly.js JSON (https://plotly.com/javascript/reference/ describes every key), for
/// anything the helpers do not cover.
public sealed class PlotlyChart
{
    private readonly JsonArray _traces;
    private readonly JsonObject _layout;

    public PlotlyChart(JsonArray traces, JsonObject? layout = null)
    {
        _traces = traces ?? throw new ArgumentNullException(nameof(traces));
        _layout = layout ?? new JsonObject();
    }

    /// A copy of the traces (plotly.js "data").
    public JsonArray Traces => (JsonArray)_traces.DeepClone();

    /// A copy of the layout.
    public JsonObject Layout => (JsonObject)_layout.DeepClone();

    /// Height in pixels of the drawn chart (width follows the output's width unless WithSize sets it).
    public int Height => _layout["height"]?.GetValue<int>() ?? Charts.DefaultHeight;

    public PlotlyChart WithTitle(string title) => With(l => l["title"] = new JsonObject { ["text"] = title });

    public PlotlyChart WithXAxis(string? title = null, bool log = false, double? min = null, double? max = null) =>
        With(l => l["xaxis"] = Axis(l["xaxis"] as JsonObject, title, log, min, max));

    public PlotlyChart WithYAxis(string? title = null, bool log = false, double? min = null, double? max = null) =>
        With(l => l["yaxis"] = Axis(l["yaxis"] as JsonObject, title, log, min, max));

    /// A fixed size in pixels; width null keeps the output's width.
    public PlotlyChart WithSize(int? width, int height) => With(l =>
    {
        if (width is { } w) l["width"] = w; else l.Remove("width");
        l["height"] = height;
    });

    /// Any layout change, on a copy: chart.WithLayout(l => l["showlegend"] = false).
    public PlotlyChart WithLayout(Action<JsonObject> change) => With(change);

    /// This chart's traces followed by the other's, on this chart's layout (overlay two line charts, say).
    public PlotlyChart Add(PlotlyChart other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var traces = (JsonArray)_traces.DeepClone();
        foreach (var t in other._traces) traces.Add(t?.DeepClone());
        return new PlotlyChart(traces, (JsonObject)_layout.DeepClone());
    }

    /// {"data": [...], "layout": {...}}: the figure as plotly.js takes it.
    public string ToJson() => new JsonObject { ["data"] = _traces.DeepClone(), ["layout"] = _layout.DeepClone() }.ToJsonString(JsonOptions);

    /// The chart's HTML: a div and a script that draws into it once window.Plotly exists (waiting up to ten
    /// seconds for a plotly.js that loads later), preceded by plotly.js itself when this output is the one to
    /// carry it (PlotlyJs.Inclusion). The formatter calls this; so can anyone writing HTML by hand.
    public string ToHtml() => Html(PlotlyJs.ScriptTagForNextChart());

    internal string Html(string plotlyScriptTag)
    {
        var id = "cvnb-chart-" + Guid.NewGuid().ToString("N");
        var width = _layout["width"] is null ? "100%" : _layout["width"]!.GetValue<int>() + "px";
        var config = new JsonObject { ["responsive"] = true, ["displaylogo"] = false };
        var sb = new StringBuilder();
        sb.Append("<div class=\"cvnb-chart\">").Append(plotlyScriptTag)
          .Append("<div id=\"").Append(id).Append("\" style=\"width:").Append(width).Append(";height:").Append(Height).Append("px\"></div>")
          .Append("<script type=\"text/javascript\">(function () {\n")
          .Append("  var id = '").Append(id).Append("';\n")
          .Append("  var data = ").Append(Script(_traces)).Append(";\n")
          .Append("  var layout = ").Append(Script(_layout)).Append(";\n")
          .Append("  var config = ").Append(Script(config)).Append(";\n")
          .Append("  var tries = 0;\n")
          .Append("  function draw() {\n")
          .Append("    var el = document.getElementById(id);\n")
          .Append("    if (!el) return;\n")
          .Append("    if (window.Plotly) { window.Plotly.newPlot(el, data, layout, config); return; }\n")
          .Append("    if (tries++ < 100) { setTimeout(draw, 100); return; }\n")
          .Append("    el.innerHTML = '").Append(MissingPlotlyMessage).Append("';\n")
          .Append("  }\n")
          .Append("  draw();\n")
          .Append("})();</script></div>");
        return sb.ToString();
    }

    /// One line for text displays and logs: trace types and names, and the title.
    public override string ToString()
    {
        var traces = string.Join(", ", _traces.Select(t => $"{t?["type"]}{(t?["name"] is { } n ? " '" + n + "'" : "")}"));
        var title = _layout["title"]?["text"]?.GetValue<string>();
        return $"PlotlyChart{(title is null ? "" : " '" + title + "'")}: {traces}";
    }

    private const string MissingPlotlyMessage =
        "<p style=\"color:#a00\">plotly.js is not loaded in this page, so this chart cannot be drawn. In a notebook it is " +
        "carried by the first chart of the session: re-run all cells, or call CvNotebooks.Charts.PlotlyJs.Reset() before this chart.</p>";

    private PlotlyChart With(Action<JsonObject> change)
    {
        var layout = (JsonObject)_layout.DeepClone();
        change(layout);
        return new PlotlyChart((JsonArray)_traces.DeepClone(), layout);
    }

    private static JsonObject Axis(JsonObject? existing, string? title, bool log, double? min, double? max)
    {
        var axis = existing is null ? new JsonObject() : (JsonObject)existing.DeepClone();
        if (title is not null) axis["title"] = new JsonObject { ["text"] = title };
        if (log) axis["type"] = "log";
        if (min is not null || max is not null)
        {
            var lo = min ?? double.NaN;
            var hi = max ?? double.NaN;
            if (log) { lo = Math.Log10(lo); hi = Math.Log10(hi); }
            axis["range"] = new JsonArray(double.IsNaN(lo) ? null : JsonValue.Create(lo), double.IsNaN(hi) ? null : JsonValue.Create(hi));
        }
        return axis;
    }

    /// JSON made safe to sit inside a script element.
    private static string Script(JsonNode node) =>
        node.ToJsonString(JsonOptions).Replace("</", "<\\/", StringComparison.Ordinal);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };
}
