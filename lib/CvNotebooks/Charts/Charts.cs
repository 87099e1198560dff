using System.Globalization;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Charts;

/// The charts notebooks draw most: training curves, scatter plots of embeddings or features, bars per class,
/// histograms of pixel values, heat maps and confusion matrices. Each returns a PlotlyChart, which shows as an
/// interactive plotly.js chart in VS Code and in cvnb, offline (PlotlyJs says how plotly.js travels).
///
/// Why not Plotly.NET's GenericChart: Plotly.NET 6.0.0 (the version our package source serves) needs
/// FSharp.Core 10.1 while the notebook kernel (and FSharp.Compiler.Service 43.10.111 in cvnb) carries FSharp.Core
/// 10.0, so referencing it breaks this library's build (NU1109) and loading it in a kernel fails without help.
/// These helpers write plotly.js JSON directly: no F# at all, small outputs (histograms are binned here, not in
/// the browser). A notebook that loads Plotly.NET itself still gets its GenericChart drawn offline: see
/// PlotlyNetBridge.
public static class Charts
{
    /// Height of a chart unless WithSize says otherwise.
    public static int DefaultHeight { get; set; } = 380;

    /// Line chart, x = 0, 1, 2, ... (steps, epochs): Charts.Line(("train", trainLoss), ("validation", valLoss)).
    public static PlotlyChart Line(params (string Name, IEnumerable<double> Y)[] series) =>
        LineChart(null, series.Select(s => (s.Name, Numbers(s.Y))));

    public static PlotlyChart Line(params (string Name, IEnumerable<float> Y)[] series) =>
        LineChart(null, series.Select(s => (s.Name, Numbers(s.Y))));

    /// Line chart over shared x values; each series has as many values as x.
    public static PlotlyChart Line(IEnumerable<double> x, params (string Name, IEnumerable<double> Y)[] series) =>
        LineChart(Numbers(x), series.Select(s => (s.Name, Numbers(s.Y))));

    public static PlotlyChart Line(IEnumerable<double> x, params (string Name, IEnumerable<float> Y)[] series) =>
        LineChart(Numbers(x), series.Select(s => (s.Name, Numbers(s.Y))));

    /// Points (markers only). With groups (a class id per point) each group is its own trace and colour,
    /// named by groupNames[id] or "class id"; labels become the hover text of each point.
    public static PlotlyChart Scatter(IEnumerable<double> x, IEnumerable<double> y, string? name = null,
                                      IEnumerable<int>? groups = null, IReadOnlyList<string>? groupNames = null,
                                      IEnumerable<string>? labels = null)
    {
        var xs = Numbers(x);
        var ys = Numbers(y);
        if (xs.Count != ys.Count) throw new ArgumentException($"x has {xs.Count} values but y has {ys.Count}", nameof(y));
        var hover = labels?.ToList();
        if (hover is not null && hover.Count != xs.Count) throw new ArgumentException($"{hover.Count} labels for {xs.Count} points", nameof(labels));
        var traces = new JsonArray();
        if (groups is null)
        {
            traces.Add(ScatterTrace(name, xs, ys, hover, Enumerable.Range(0, xs.Count)));
        }
        else
        {
            var ids = groups.ToList();
            if (ids.Count != xs.Count) throw new ArgumentException($"{ids.Count} group ids for {xs.Count} points", nameof(groups));
            foreach (var g in ids.Distinct().Order())
            {
                var label = groupNames is not null && g >= 0 && g < groupNames.Count ? groupNames[g] : $"class {g}";
                traces.Add(ScatterTrace(label, xs, ys, hover, Enumerable.Range(0, ids.Count).Where(i => ids[i] == g)));
            }
        }
        return new PlotlyChart(traces, BaseLayout(showLegend: traces.Count > 1 || name is not null));
    }

    /// Bars per category; several series are grouped side by side: Charts.Bar(classNames, ("train", a), ("test", b)).
    public static PlotlyChart Bar(IEnumerable<string> categories, params (string Name, IEnumerable<double> Values)[] series)
    {
        var cats = categories.ToList();
        var traces = new JsonArray();
        foreach (var (name, values) in series)
        {
            var v = Numbers(values);
            if (v.Count != cats.Count) throw new ArgumentException($"series '{name}' has {v.Count} values for {cats.Count} categories", nameof(series));
            traces.Add(new JsonObject { ["type"] = "bar", ["name"] = name, ["x"] = Strings(cats), ["y"] = Array(v) });
        }
        var layout = BaseLayout(showLegend: series.Length > 1);
        layout["barmode"] = "group";
        return new PlotlyChart(traces, layout);
    }

    /// One series of bars without a legend.
    public static PlotlyChart Bar(IEnumerable<string> categories, IEnumerable<double> values, string? name = null) =>
        Bar(categories, (name ?? "", values)).WithLayout(l => l["showlegend"] = false);

    /// A histogram with `bins` equal bins over [min, max] (the data's range unless given). The counts are
    /// computed here, so the output holds `bins` numbers however many values there were. NaN are skipped.
    public static PlotlyChart Histogram(IEnumerable<double> values, int bins = 50, string? name = null, double? min = null, double? max = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "bins must be at least 1");
        var v = values.Where(d => !double.IsNaN(d) && !double.IsInfinity(d)).ToArray();
        double lo = min ?? (v.Length == 0 ? 0 : v.Min()), hi = max ?? (v.Length == 0 ? 1 : v.Max());
        if (!(hi > lo)) hi = lo + 1;
        var counts = new long[bins];
        var width = (hi - lo) / bins;
        foreach (var d in v)
        {
            if (d < lo || d > hi) continue;
            var i = (int)((d - lo) / width);
            counts[Math.Min(i, bins - 1)]++;
        }
        return HistogramChart(counts.Select(c => (double)c).ToArray(), lo, width, name, v.Length);
    }

    public static PlotlyChart Histogram(IEnumerable<float> values, int bins = 50, string? name = null, double? min = null, double? max = null) =>
        Histogram(values.Select(f => (double)f), bins, name, min, max);

    // Arrays get overloads of their own: TorchSharp converts arrays to tensors implicitly, which would make
    // Histogram(new[] { ... }) ambiguous between the sequence and the tensor overloads.
    public static PlotlyChart Histogram(double[] values, int bins = 50, string? name = null, double? min = null, double? max = null) =>
        Histogram((IEnumerable<double>)values, bins, name, min, max);

    public static PlotlyChart Histogram(float[] values, int bins = 50, string? name = null, double? min = null, double? max = null) =>
        Histogram((IEnumerable<float>)values, bins, name, min, max);

    /// A histogram of every value of a tensor (pixel intensities, activations, weights), counted with
    /// torch.histc on the tensor's own device; only the `bins` counts come back to the CPU.
    public static PlotlyChart Histogram(Tensor values, int bins = 50, string? name = null, double? min = null, double? max = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "bins must be at least 1");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = values.detach().flatten().to(ScalarType.Float32);
        flat = flat.masked_select(flat.isfinite());
        var n = flat.shape[0];
        double lo = min ?? (n == 0 ? 0 : flat.min().item<float>()), hi = max ?? (n == 0 ? 1 : flat.max().item<float>());
        if (!(hi > lo)) hi = lo + 1;
        var width = (hi - lo) / bins;
        var counts = new double[bins];
        if (n > 0)
        {
            // Bin index per value on the tensor's device (torch.histogram is CPU-only), counted by bincount.
            var inRange = flat.masked_select(flat.ge(lo).logical_and(flat.le(hi)));
            var index = inRange.sub(lo).div_(width).floor_().clamp_(0, bins - 1).to(ScalarType.Int64);
            var binned = index.bincount(null, bins).cpu().data<long>().ToArray();
            for (var i = 0; i < bins; i++) counts[i] = binned[i];
        }
        return HistogramChart(counts, lo, width, name, n);
    }

    /// A heat map of z (rows top to bottom as given), with optional column (x) and row (y) labels; showValues
    /// writes each cell's value in it.
    public static PlotlyChart Heatmap(double[,] z, IReadOnlyList<string>? x = null, IReadOnlyList<string>? y = null,
                                      bool showValues = false, string colorscale = "Viridis", string valueFormat = ".3g") =>
        HeatmapChart(z, x, y, showValues, JsonValue.Create(colorscale), valueFormat);

    // Matplotlib's "Blues": white for 0, dark blue for the most (plotly's own "Blues" runs the other way).
    private static JsonArray CountScale() => new(
        new JsonArray(0.0, "#f7fbff"), new JsonArray(0.25, "#c6dbef"), new JsonArray(0.5, "#6baed6"),
        new JsonArray(0.75, "#2171b5"), new JsonArray(1.0, "#08306b"));

    private static PlotlyChart HeatmapChart(double[,] z, IReadOnlyList<string>? x, IReadOnlyList<string>? y,
                                            bool showValues, JsonNode colorscale, string valueFormat)
    {
        ArgumentNullException.ThrowIfNull(z);
        var rows = z.GetLength(0);
        var cols = z.GetLength(1);
        if (x is not null && x.Count != cols) throw new ArgumentException($"{x.Count} x labels for {cols} columns", nameof(x));
        if (y is not null && y.Count != rows) throw new ArgumentException($"{y.Count} y labels for {rows} rows", nameof(y));
        var zRows = new JsonArray();
        for (var r = 0; r < rows; r++)
        {
            var row = new JsonArray();
            for (var c = 0; c < cols; c++) row.Add(Number(z[r, c]));
            zRows.Add(row);
        }
        var trace = new JsonObject { ["type"] = "heatmap", ["z"] = zRows, ["colorscale"] = colorscale };
        if (x is not null) trace["x"] = Strings(x);
        if (y is not null) trace["y"] = Strings(y);
        if (showValues) trace["texttemplate"] = "%{z:" + valueFormat + "}";
        var layout = BaseLayout(showLegend: false);
        // Rows top to bottom, as in a matrix or an image; labelled axes keep every label.
        layout["yaxis"] = new JsonObject { ["autorange"] = "reversed" };
        if (x is not null) layout["xaxis"] = new JsonObject { ["type"] = "category" };
        if (y is not null) ((JsonObject)layout["yaxis"]!)["type"] = "category";
        return new PlotlyChart(new JsonArray(trace), layout);
    }

    /// A heat map of a 2-D tensor (or (1,H,W) / (1,1,H,W)), e.g. an attention map or a cost volume slice.
    public static PlotlyChart Heatmap(Tensor z, IReadOnlyList<string>? x = null, IReadOnlyList<string>? y = null,
                                      bool showValues = false, string colorscale = "Viridis")
    {
        ArgumentNullException.ThrowIfNull(z);
        using var scope = NewDisposeScope();
        var m = z.detach();
        while (m.dim() > 2 && m.shape[0] == 1) m = m.squeeze(0);
        if (m.dim() != 2) throw new ArgumentException($"a heat map needs a 2-D tensor; got shape {Guard.Shape(z)}", nameof(z));
        var values = m.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        int rows = (int)m.shape[0], cols = (int)m.shape[1];
        var grid = new double[rows, cols];
        Buffer.BlockCopy(values, 0, grid, 0, values.Length * sizeof(double));
        return Heatmap(grid, x, y, showValues, colorscale);
    }

    /// A confusion matrix: rows are the true class, columns the predicted class, each cell its count (or, with
    /// normalize, the fraction of its row: per-class recall on the diagonal). Labels name the classes.
    public static PlotlyChart ConfusionMatrix(int[,] counts, IReadOnlyList<string> labels, bool normalize = false)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(labels);
        var n = counts.GetLength(0);
        if (counts.GetLength(1) != n) throw new ArgumentException($"a confusion matrix is square; got {n}x{counts.GetLength(1)}", nameof(counts));
        if (labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} classes", nameof(labels));
        var z = new double[n, n];
        for (var r = 0; r < n; r++)
        {
            double total = 0;
            for (var c = 0; c < n; c++) total += counts[r, c];
            for (var c = 0; c < n; c++) z[r, c] = normalize ? (total > 0 ? counts[r, c] / total : 0) : counts[r, c];
        }
        var chart = HeatmapChart(z, labels, labels, showValues: true, CountScale(), valueFormat: normalize ? ".2f" : "d");
        return chart.WithLayout(l =>
        {
            l["xaxis"] = new JsonObject { ["type"] = "category", ["title"] = new JsonObject { ["text"] = "predicted" }, ["side"] = "bottom" };
            l["yaxis"] = new JsonObject { ["type"] = "category", ["autorange"] = "reversed", ["title"] = new JsonObject { ["text"] = "true" } };
            l["title"] = new JsonObject { ["text"] = normalize ? "Confusion matrix (fraction of each true class)" : "Confusion matrix" };
        });
    }

    /// A confusion matrix from a (K,K) count tensor.
    public static PlotlyChart ConfusionMatrix(Tensor counts, IReadOnlyList<string> labels, bool normalize = false)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.dim() != 2 || counts.shape[0] != counts.shape[1])
            throw new ArgumentException($"a confusion matrix is a (K,K) tensor; got {Guard.Shape(counts)}", nameof(counts));
        using var scope = NewDisposeScope();
        var values = counts.detach().to(ScalarType.Int32).cpu().contiguous().data<int>().ToArray();
        var n = (int)counts.shape[0];
        var grid = new int[n, n];
        Buffer.BlockCopy(values, 0, grid, 0, values.Length * sizeof(int));
        return ConfusionMatrix(grid, labels, normalize);
    }

    private static PlotlyChart LineChart(List<JsonNode?>? x, IEnumerable<(string Name, List<JsonNode?> Y)> series)
    {
        var traces = new JsonArray();
        var count = 0;
        foreach (var (name, y) in series)
        {
            if (x is not null && x.Count != y.Count) throw new ArgumentException($"series '{name}' has {y.Count} values for {x.Count} x values", nameof(series));
            var trace = new JsonObject { ["type"] = "scatter", ["mode"] = "lines", ["name"] = name };
            trace["x"] = x is null ? new JsonArray(Enumerable.Range(0, y.Count).Select(i => (JsonNode?)i).ToArray()) : Array(x);
            trace["y"] = Array(y);
            traces.Add(trace);
            count++;
        }
        if (count == 0) throw new ArgumentException("give at least one (name, values) series", nameof(series));
        return new PlotlyChart(traces, BaseLayout(showLegend: count > 1));
    }

    private static JsonObject ScatterTrace(string? name, List<JsonNode?> xs, List<JsonNode?> ys, List<string>? hover, IEnumerable<int> pick)
    {
        var idx = pick.ToList();
        var trace = new JsonObject
        {
            ["type"] = "scatter",
            ["mode"] = "markers",
            ["x"] = new JsonArray(idx.Select(i => xs[i]?.DeepClone()).ToArray()),
            ["y"] = new JsonArray(idx.Select(i => ys[i]?.DeepClone()).ToArray()),
            ["marker"] = new JsonObject { ["size"] = 6, ["opacity"] = 0.8 },
        };
        if (name is not null) trace["name"] = name;
        if (hover is not null) trace["text"] = Strings(idx.Select(i => hover[i]));
        return trace;
    }

    private static PlotlyChart HistogramChart(double[] counts, double lo, double width, string? name, long total)
    {
        var centres = Enumerable.Range(0, counts.Length).Select(i => Number(lo + (i + 0.5) * width)).ToList();
        var trace = new JsonObject
        {
            ["type"] = "bar",
            ["name"] = name ?? "count",
            ["x"] = Array(centres),
            ["y"] = Array(counts.Select(Number).ToList()),
            ["width"] = width,
            ["hovertemplate"] = "[%{customdata}): %{y}<extra></extra>",
            ["customdata"] = Strings(Enumerable.Range(0, counts.Length).Select(i =>
                string.Create(CultureInfo.InvariantCulture, $"{lo + i * width:G4}, {lo + (i + 1) * width:G4}"))),
        };
        var layout = BaseLayout(showLegend: false);
        layout["bargap"] = 0;
        layout["yaxis"] = new JsonObject { ["title"] = new JsonObject { ["text"] = "count" } };
        if (name is not null) layout["title"] = new JsonObject { ["text"] = $"{name} ({total} values)" };
        return new PlotlyChart(new JsonArray(trace), layout);
    }

    private static JsonObject BaseLayout(bool showLegend) => new()
    {
        ["height"] = DefaultHeight,
        ["margin"] = new JsonObject { ["l"] = 60, ["r"] = 20, ["t"] = 40, ["b"] = 50 },
        ["showlegend"] = showLegend,
    };

    private static List<JsonNode?> Numbers(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.Select(Number).ToList();
    }

    private static List<JsonNode?> Numbers(IEnumerable<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        // Floats stay floats in JSON: 0.1f is written 0.1, not 0.10000000149011612.
        return values.Select(f => float.IsFinite(f) ? (JsonNode?)JsonValue.Create(f) : null).ToList();
    }

    private static JsonNode? Number(double d) => double.IsFinite(d) ? JsonValue.Create(d) : null;

    private static JsonArray Array(List<JsonNode?> values) => new(values.Select(v => v?.DeepClone()).ToArray());

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
}
