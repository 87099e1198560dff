using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CvNotebooks.Runner.Documents;
using CvNotebooks.Runner.Execution;
using Markdig;
using Markdig.Renderers;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace CvNotebooks.Runner.Export;

/// plotly.js found for the site: the script text, its version when known, and where it came from.
public sealed record PlotlyJs(string Script, string Version, string Origin, string? License = null);

/// A static HTML site for executed notebooks that works from disk with no network: index.html with status and
/// durations, one page per notebook at its relative path, images inline as data URIs, and Plotly charts drawn by
/// one local copy of plotly.js (assets/plotly.min.js) instead of a CDN.
public static class HtmlExporter
{
    public const string PlotlyAsset = "assets/plotly.min.js";
    private const string ManifestName = ".cvnb-site";

    /// Writes the site into siteDir. plotlyJsPath names plotly.min.js (or a Plotly.NET.dll to take it from);
    /// without it plotly.js is taken from a loaded Plotly.NET assembly or from Plotly.NET in the NuGet packages
    /// folder, and only when some page has a chart.
    public static void WriteSite(string siteDir, IReadOnlyList<NotebookResult> results, string title = "CvNotebooks",
        string? plotlyJsPath = null)
    {
        if (plotlyJsPath is not null && !File.Exists(plotlyJsPath))
            throw new FileNotFoundException($"plotly.js not found at {plotlyJsPath}", plotlyJsPath);
        WriteSite(siteDir, results, title, () => LocatePlotlyJs(plotlyJsPath));
    }

    internal static void WriteSite(string siteDir, IReadOnlyList<NotebookResult> results, string title, Func<PlotlyJs?> findPlotly)
    {
        var root = Path.GetFullPath(siteDir);
        Directory.CreateDirectory(root);

        var pagePaths = PagePaths(results);
        var needsPlotly = results.Select(r => r.Executed is { } nb && UsesPlotly(nb)).ToList();
        var plotly = needsPlotly.Contains(true) ? findPlotly() : null;

        // Render everything first, so a failure here leaves the previous site as it was.
        var files = new List<(string Rel, string Text)>();
        if (plotly is not null)
        {
            files.Add((PlotlyAsset, plotly.Script));
            if (plotly.License is not null) files.Add((PlotlyAsset + ".LICENSE.txt", plotly.License));
        }
        for (var i = 0; i < results.Count; i++)
        {
            if (results[i].Executed is not { } nb || pagePaths[i] is not { } rel) continue;
            var up = string.Concat(Enumerable.Repeat("../", rel.Count(c => c == '/')));
            var html = RenderPage(nb, NotebookTitle(nb, results[i].RelativePath), results[i],
                indexHref: up + "index.html",
                plotlySrc: needsPlotly[i] && plotly is not null ? up + PlotlyAsset : null,
                siteTitle: title);
            files.Add((rel, html));
        }
        var plotlyNote = needsPlotly.Contains(true)
            ? plotly is null ? "plotly.js not found: charts need network" : $"charts use plotly.js {plotly.Version} from {plotly.Origin}"
            : null;
        files.Add(("index.html", RenderIndex(results, pagePaths, title, plotlyNote)));

        foreach (var (rel, text) in files)
            AtomicFile.WriteAllText(Path.Combine(root, rel), text);
        RemoveStale(root, files.Select(f => f.Rel).ToList());
    }

    /// One notebook as a self-contained page (no back-link, charts load plotly.js as the output says).
    public static string RenderNotebook(Notebook nb, string title, NotebookResult? result = null) =>
        RenderPage(nb, title, result, indexHref: null, plotlySrc: null, siteTitle: null);

    /// The page path (with '/' separators, .html extension) for each result; null when the result has no document.
    internal static List<string?> PagePaths(IReadOnlyList<NotebookResult> results)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "index.html" };
        var paths = new List<string?>();
        foreach (var r in results)
        {
            if (r.Executed is null) { paths.Add(null); continue; }
            var parts = r.RelativePath.Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries)
                .Where(p => p != ".")
                .Select(p => p == ".." ? "_" : p)
                .ToList();
            if (parts.Count == 0) parts.Add("notebook");
            if (parts.Count > 1 && parts[0].Equals("assets", StringComparison.OrdinalIgnoreCase)) parts[0] = "_assets";
            parts[^1] = Path.ChangeExtension(parts[^1], ".html");
            var rel = string.Join('/', parts);
            var stem = rel[..^".html".Length];
            for (var n = 2; !used.Add(rel); n++) rel = $"{stem}-{n}.html";
            paths.Add(rel);
        }
        return paths;
    }

    // ---------------------------------------------------------------- index

    private static string RenderIndex(IReadOnlyList<NotebookResult> results, List<string?> pagePaths, string title, string? plotlyNote)
    {
        var passed = results.Count(r => r.Succeeded);
        var failed = results.Count - passed;
        var total = results.Aggregate(TimeSpan.Zero, (t, r) => t + r.Duration);
        var sb = new StringBuilder();
        PageStart(sb, title, plotlySrc: null);
        sb.Append("<header><div class=\"wrap\"><span class=\"site\">").Append(E(title)).Append("</span></div></header>\n<main>\n");
        sb.Append("<h1>").Append(E(title)).Append("</h1>\n");
        sb.Append("<p class=\"summary\"><span class=\"").Append(failed == 0 ? "ok" : "bad").Append("\">")
          .Append(passed).Append(" passed, ").Append(failed).Append(" failed</span>, ")
          .Append(results.Count).Append(results.Count == 1 ? " notebook" : " notebooks")
          .Append(", total time ").Append(E(FormatDuration(total))).Append("</p>\n");
        if (plotlyNote is not null)
            sb.Append("<p class=\"").Append(plotlyNote.StartsWith("plotly.js not found", StringComparison.Ordinal) ? "note" : "info")
              .Append("\">").Append(E(plotlyNote)).Append("</p>\n");
        sb.Append("<table class=\"runs\">\n<thead><tr><th>#</th><th>Notebook</th><th>Status</th><th class=\"num\">Duration</th><th>Cells</th></tr></thead>\n<tbody>\n");
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            sb.Append("<tr class=\"").Append(r.Succeeded ? "passed" : "failed").Append("\"><td class=\"num\">").Append(i + 1).Append("</td><td>");
            var name = r.RelativePath.Replace('\\', '/');
            if (pagePaths[i] is { } rel)
                sb.Append("<a href=\"").Append(E(Href(rel))).Append("\">").Append(E(name)).Append("</a>");
            else
                sb.Append(E(name));
            if (r.Executed is { } nb && NotebookHeading(nb) is { } heading)
                sb.Append("<div class=\"sub\">").Append(E(heading)).Append("</div>");
            sb.Append("</td><td>");
            if (r.Succeeded)
                sb.Append("<span class=\"badge ok\">passed</span>");
            else
                sb.Append("<span class=\"badge bad\">failed</span> <span class=\"why\">").Append(E(FirstLine(r.Failure))).Append("</span>");
            sb.Append("</td><td class=\"num\">").Append(E(FormatDuration(r.Duration))).Append("</td><td>")
              .Append(E(CellCounts(r))).Append("</td></tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
        sb.Append("<p class=\"foot\">Generated ").Append(E(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)))
          .Append(" by cvnb.</p>\n</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static string CellCounts(NotebookResult r)
    {
        var parts = new List<string>();
        if (r.Executed is { } nb)
        {
            parts.Add($"{nb.Cells.Count(c => c.Type == CellType.Code)} code / {nb.Cells.Count} cells");
        }
        int Count(params CellStatus[] s) => r.Cells.Count(c => s.Contains(c.Status));
        if (r.Cells.Count > 0)
        {
            parts.Add($"{Count(CellStatus.Succeeded, CellStatus.ExpectedError)} ran");
            if (Count(CellStatus.Failed, CellStatus.TimedOut, CellStatus.Unsupported) is var f and > 0) parts.Add($"{f} failed");
            if (Count(CellStatus.Skipped) is var s and > 0) parts.Add($"{s} skipped");
            if (Count(CellStatus.NotRun) is var n and > 0) parts.Add($"{n} not run");
        }
        return string.Join(" · ", parts);
    }

    // ---------------------------------------------------------------- notebook page

    private static string RenderPage(Notebook nb, string title, NotebookResult? result, string? indexHref, string? plotlySrc, string? siteTitle)
    {
        var statusByCell = new Dictionary<int, CellResult>();
        if (result is not null)
            foreach (var c in result.Cells) statusByCell[c.Number] = c;

        var sb = new StringBuilder();
        PageStart(sb, title, plotlySrc);
        sb.Append("<header><div class=\"wrap\">");
        if (indexHref is not null)
            sb.Append("<a class=\"back\" href=\"").Append(E(indexHref)).Append("\">&larr; ").Append(E(siteTitle ?? "Index")).Append("</a>");
        sb.Append("<span class=\"site\">").Append(E(title)).Append("</span>");
        if (result is not null)
        {
            sb.Append(result.Succeeded ? "<span class=\"badge ok\">passed</span>" : "<span class=\"badge bad\">failed</span>")
              .Append("<span class=\"time\">").Append(E(FormatDuration(result.Duration))).Append("</span>");
        }
        sb.Append("</div></header>\n<main>\n");

        if (result is { Failure: { } failure })
        {
            sb.Append("<div class=\"banner\"><strong>This notebook failed.</strong><pre>").Append(E(StripAnsi(failure))).Append("</pre>");
            var firstFailed = result.Cells.FirstOrDefault(c => c.Status is CellStatus.Failed or CellStatus.TimedOut or CellStatus.Unsupported);
            if (firstFailed is not null)
                sb.Append("<a href=\"#cell-").Append(firstFailed.Number).Append("\">Go to cell ").Append(firstFailed.Number).Append("</a>");
            sb.Append("</div>\n");
        }

        foreach (var cell in nb.Cells)
        {
            statusByCell.TryGetValue(cell.Number, out var status);
            RenderCell(sb, cell, status, plotlySrc);
        }
        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void RenderCell(StringBuilder sb, Cell cell, CellResult? status, string? plotlySrc)
    {
        var cls = cell.Type switch { CellType.Code => "code", CellType.Markdown => "markdown", _ => "raw" };
        var state = status?.Status switch
        {
            CellStatus.Failed => "failed",
            CellStatus.TimedOut => "failed timedout",
            CellStatus.Unsupported => "failed unsupported",
            CellStatus.Skipped => "skipped",
            CellStatus.NotRun => "notrun",
            CellStatus.ExpectedError => "expected",
            _ => null,
        };
        sb.Append("<section class=\"cell ").Append(cls);
        if (state is not null) sb.Append(' ').Append(state);
        sb.Append("\" id=\"cell-").Append(cell.Number).Append("\">\n");

        switch (cell.Type)
        {
            case CellType.Markdown:
                sb.Append("<div class=\"prompt\"></div><div class=\"body md\">").Append(RenderMarkdown(cell.Source, cell.Json["attachments"] as JsonObject)).Append("</div>\n");
                break;
            case CellType.Raw:
                sb.Append("<div class=\"prompt\"></div><div class=\"body\"><pre class=\"rawcell\">").Append(E(cell.Source)).Append("</pre></div>\n");
                break;
            default:
                var count = cell.ExecutionCount is { } n ? n.ToString(CultureInfo.InvariantCulture) : " ";
                sb.Append("<div class=\"prompt\">In&nbsp;[").Append(E(count)).Append("]:");
                if (cell.KernelName is { } k && k != "csharp")
                    sb.Append("<div class=\"kernel\">").Append(E(k)).Append("</div>");
                sb.Append("</div><div class=\"body\">");
                if (status is not null)
                {
                    sb.Append("<div class=\"status\">").Append(E(StatusText(status.Status)));
                    if (status.Duration > TimeSpan.Zero) sb.Append(" · ").Append(E(FormatDuration(status.Duration)));
                    sb.Append("</div>");
                }
                sb.Append("<pre class=\"input\"><code>").Append(E(cell.Source)).Append("</code></pre>");
                var outputs = cell.Outputs;
                if (outputs.Count > 0 || status?.Error is not null)
                {
                    sb.Append("<div class=\"outputs\">\n");
                    foreach (var o in outputs)
                    {
                        if (o is not JsonObject output) continue;
                        try { RenderOutput(sb, output, plotlySrc); }
                        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or ArgumentException)
                        {
                            sb.Append("<div class=\"output note\">output could not be shown: ").Append(E(e.Message)).Append("</div>\n");
                        }
                    }
                    if (status?.Error is { } err && !outputs.OfType<JsonObject>().Any(o => Str(o["output_type"]) == "error"))
                        sb.Append("<div class=\"output error\"><pre>").Append(E(StripAnsi(err))).Append("</pre></div>\n");
                    sb.Append("</div>");
                }
                sb.Append("</div>\n");
                break;
        }
        sb.Append("</section>\n");
    }

    private static string StatusText(CellStatus s) => s switch
    {
        CellStatus.Succeeded => "ok",
        CellStatus.Failed => "failed",
        CellStatus.TimedOut => "timed out",
        CellStatus.Skipped => "skipped",
        CellStatus.NotRun => "not run",
        CellStatus.ExpectedError => "raised, as expected",
        _ => s.ToString(),
    };

    private static readonly string[] RichMimeOrder =
        ["text/html", "image/svg+xml", "image/png", "image/jpeg", "image/gif", "text/markdown", "application/json", "text/plain"];

    private static void RenderOutput(StringBuilder sb, JsonObject output, string? plotlySrc)
    {
        switch (Str(output["output_type"]))
        {
            case "stream":
                var name = Str(output["name"]) == "stderr" ? "stderr" : "stdout";
                sb.Append("<div class=\"output stream ").Append(name).Append("\"><pre>")
                  .Append(E(ApplyCarriageReturns(StripAnsi(Str(output["text"]) ?? "")))).Append("</pre></div>\n");
                break;
            case "error":
                var ename = Str(output["ename"]) ?? "Error";
                var evalue = StripAnsi(Str(output["evalue"]) ?? "");
                var trace = output["traceback"] is JsonArray tb
                    ? StripAnsi(string.Join("\n", tb.Select(Str).Where(t => t is not null)))
                    : "";
                // .NET Interactive's traceback usually repeats the message; show it once.
                var traceHasMessage = trace.Trim().Length > 0 && trace.Contains(evalue.Trim(), StringComparison.Ordinal);
                sb.Append("<div class=\"output error\"><div class=\"ename\">").Append(E(ename)).Append("</div>");
                if (evalue.Length > 0 && !traceHasMessage) sb.Append("<pre class=\"evalue\">").Append(E(evalue)).Append("</pre>");
                if (trace.Trim().Length > 0)
                    sb.Append("<pre class=\"traceback\">").Append(E(trace)).Append("</pre>");
                sb.Append("</div>\n");
                break;
            case "display_data":
            case "execute_result":
                var prompt = Str(output["output_type"]) == "execute_result" && output["execution_count"] is JsonValue v
                    && v.TryGetValue<int>(out var ec) ? $"Out[{ec}]" : null;
                sb.Append("<div class=\"output rich\"");
                if (prompt is not null) sb.Append(" title=\"").Append(prompt).Append('"');
                sb.Append('>');
                RenderMimeBundle(sb, output["data"] as JsonObject, output["metadata"] as JsonObject, plotlySrc);
                sb.Append("</div>\n");
                break;
            default:
                sb.Append("<div class=\"output note\">output of type ").Append(E(Str(output["output_type"]) ?? "?")).Append(" not shown</div>\n");
                break;
        }
    }

    private static void RenderMimeBundle(StringBuilder sb, JsonObject? data, JsonObject? metadata, string? plotlySrc)
    {
        if (data is null || data.Count == 0) return;
        var mime = RichMimeOrder.FirstOrDefault(data.ContainsKey);
        if (mime is null)
        {
            sb.Append("<div class=\"note\">output of type ").Append(E(string.Join(", ", data.Select(kv => kv.Key)))).Append(" not shown</div>");
            return;
        }
        var value = data[mime];
        switch (mime)
        {
            case "text/html":
                var html = Str(value) ?? "";
                sb.Append(plotlySrc is null ? html : RewritePlotlyCdn(html, plotlySrc));
                break;
            case "image/svg+xml":
                var svg = Str(value) ?? "";
                sb.Append("<img alt=\"\"").Append(ImageSize(metadata, mime)).Append(" src=\"data:image/svg+xml;base64,")
                  .Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(svg))).Append("\">");
                break;
            case "image/png" or "image/jpeg" or "image/gif":
                var b64 = Regex.Replace(Str(value) ?? "", @"\s+", "");
                sb.Append("<img alt=\"\"").Append(ImageSize(metadata, mime)).Append(" src=\"data:").Append(mime).Append(";base64,")
                  .Append(E(b64)).Append("\">");
                break;
            case "text/markdown":
                sb.Append("<div class=\"md\">").Append(RenderMarkdown(Str(value) ?? "", null)).Append("</div>");
                break;
            case "application/json":
                var json = value is JsonValue jv && jv.TryGetValue<string>(out var s) ? TryIndentJson(s) : value?.ToJsonString(IndentedJson) ?? "null";
                sb.Append("<pre class=\"json\">").Append(E(json)).Append("</pre>");
                break;
            default:
                sb.Append("<pre class=\"plain\">").Append(E(StripAnsi(Str(value) ?? ""))).Append("</pre>");
                break;
        }
    }

    private static string ImageSize(JsonObject? metadata, string mime)
    {
        var m = metadata?[mime] as JsonObject;
        var sb = new StringBuilder();
        foreach (var dim in new[] { "width", "height" })
            if (m?[dim] is JsonValue v && v.TryGetValue<double>(out var px) && px > 0)
                sb.Append(' ').Append(dim).Append("=\"").Append(px.ToString("0.##", CultureInfo.InvariantCulture)).Append('"');
        return sb.ToString();
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static string TryIndentJson(string s)
    {
        try { return JsonNode.Parse(s)?.ToJsonString(IndentedJson) ?? s; }
        catch (JsonException) { return s; }
    }

    // ---------------------------------------------------------------- markdown

    private static readonly MarkdownPipeline Md = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    internal static string RenderMarkdown(string text, JsonObject? attachments)
    {
        var doc = Markdig.Markdown.Parse(text, Md);
        if (attachments is not null)
        {
            foreach (var link in doc.Descendants<LinkInline>())
            {
                if (link.Url is not { } url || !url.StartsWith("attachment:", StringComparison.Ordinal)) continue;
                var name = Uri.UnescapeDataString(url["attachment:".Length..]);
                if (attachments[name] is not JsonObject bundle) continue;
                var mime = bundle.Select(kv => kv.Key).FirstOrDefault(k => k.StartsWith("image/", StringComparison.Ordinal));
                if (mime is null) continue;
                var payload = Str(bundle[mime]) ?? "";
                link.Url = mime == "image/svg+xml"
                    ? "data:image/svg+xml;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes(payload))
                    : $"data:{mime};base64,{Regex.Replace(payload, @"\s+", "")}";
            }
        }
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var renderer = new HtmlRenderer(writer);
        Md.Setup(renderer);
        renderer.Render(doc);
        writer.Flush();
        return writer.ToString();
    }

    // ---------------------------------------------------------------- plotly

    /// A CDN URL for plotly.js in a script src or a require.js path (cdn.plot.ly, jsdelivr, unpkg, cdnjs).
    private static readonly Regex PlotlyCdnUrl = new(
        @"(?:https?:)?//(?:cdn\.plot\.ly/plotly[^'""\s<>]*|cdn\.jsdelivr\.net/npm/plotly\.js[^'""\s<>]*|unpkg\.com/plotly\.js[^'""\s<>]*|cdnjs\.cloudflare\.com/ajax/libs/plotly\.js/[^'""\s<>]*)",
        RegexOptions.IgnoreCase | RegexOptions.Compiled);

    private static readonly Regex PlotlyCdnScriptTag = new(
        @"<script\b[^>]*\bsrc\s*=\s*[""']?(?:https?:)?//(?:cdn\.plot\.ly|cdn\.jsdelivr\.net/npm/plotly\.js|unpkg\.com/plotly\.js|cdnjs\.cloudflare\.com/ajax/libs/plotly\.js/)[^>]*>\s*</script\s*>",
        RegexOptions.IgnoreCase | RegexOptions.Compiled);

    private static readonly Regex PlotlyUse = new(@"cdn\.plot\.ly|\bPlotly\.(?:newPlot|react|plot)\s*\(|plotly\.js", RegexOptions.Compiled);

    internal static bool UsesPlotly(Notebook nb) =>
        nb.Cells.Where(c => c.Type == CellType.Code)
          .SelectMany(c => c.Outputs.OfType<JsonObject>())
          .Any(o => (o["data"] as JsonObject)?["text/html"] is { } h && Str(h) is { } html && PlotlyUse.IsMatch(html));

    /// Script tags that load plotly.js from a CDN become a comment (the page loads the local copy once, in its
    /// head); CDN URLs left in scripts (require.js paths) point at the local copy.
    internal static string RewritePlotlyCdn(string html, string plotlySrc)
    {
        html = PlotlyCdnScriptTag.Replace(html, $"<!-- plotly.js: {plotlySrc}, loaded in the page head -->");
        var requirePath = plotlySrc.EndsWith(".js", StringComparison.Ordinal) ? plotlySrc[..^3] : plotlySrc;
        return PlotlyCdnUrl.Replace(html, m => m.Value.EndsWith(".js", StringComparison.OrdinalIgnoreCase) ? plotlySrc : requirePath);
    }

    /// Charts from Plotly.NET.Interactive and XPlot ask require.js for 'plotly' and fetch require.js from a CDN
    /// when it is absent. With plotly.js loaded as a global, a small stand-in for require answers from it, so
    /// nothing is fetched. A real require.js, when some output brings one, is left alone.
    private const string RequireShim = """
        (function () {
          if (typeof window.requirejs === 'function' && typeof window.requirejs.config === 'function') return;
          var req = function (deps, callback) {
            var pick = function (d) { return /plotly/i.test(d) ? window.Plotly : undefined; };
            if (typeof deps === 'string') return pick(deps);
            if (typeof callback === 'function') callback.apply(window, (deps || []).map(pick));
          };
          req.config = function () { return req; };
          req.undef = function () {};
          window.requirejs = req;
          if (typeof window.require !== 'function' || typeof window.require.config !== 'function') window.require = req;
        })();
        """;

    private static readonly Regex PlotlyResourceName = new(@"^Plotly\.NET\.plotly-(?<v>[0-9][0-9.]*)\.min\.js$", RegexOptions.Compiled);

    /// Finds plotly.js: at plotlyJsPath (a .js file, or a Plotly.NET.dll), else in a Plotly.NET assembly already
    /// loaded in this process, else in Plotly.NET in the NuGet packages folder ($NUGET_PACKAGES or ~/.nuget/packages;
    /// 6.0.0 first, then the newest). Plotly.NET embeds it as the resource Plotly.NET.plotly-&lt;version&gt;.min.js,
    /// which is read from the file without loading the assembly. Null when none is found.
    public static PlotlyJs? LocatePlotlyJs(string? plotlyJsPath = null)
    {
        if (plotlyJsPath is not null)
        {
            var full = Path.GetFullPath(plotlyJsPath);
            if (full.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                return ReadPlotlyFromDll(full);
            var script = File.ReadAllText(full);
            var license = File.Exists(full + ".LICENSE.txt") ? File.ReadAllText(full + ".LICENSE.txt") : null;
            return new PlotlyJs(script, VersionOf(script) ?? "(unknown version)", full, license);
        }

        foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (asm.IsDynamic || asm.GetName().Name != "Plotly.NET") continue;
            var names = asm.GetManifestResourceNames();
            var js = names.Select(n => PlotlyResourceName.Match(n)).FirstOrDefault(m => m.Success);
            if (js is null) continue;
            using var stream = asm.GetManifestResourceStream(js.Value);
            if (stream is null) continue;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var script = reader.ReadToEnd();
            string? license = null;
            if (asm.GetManifestResourceStream(js.Value + ".LICENSE.txt") is { } ls)
                using (var lr = new StreamReader(ls, Encoding.UTF8)) license = lr.ReadToEnd();
            return new PlotlyJs(script, js.Groups["v"].Value, $"the loaded {asm.GetName().Name} {asm.GetName().Version}", license);
        }

        foreach (var dll in NuGetPlotlyDlls())
        {
            var found = ReadPlotlyFromDll(dll);
            if (found is not null) return found;
        }
        return null;
    }

    private static IEnumerable<string> NuGetPlotlyDlls()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrWhiteSpace(packages))
            packages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var dir = Path.Combine(packages, "plotly.net");
        if (!Directory.Exists(dir)) yield break;
        var versions = Directory.GetDirectories(dir)
            .Select(d => (Dir: d, Version: Version.TryParse(Path.GetFileName(d).Split('-')[0], out var v) ? v : new Version(0, 0)))
            .OrderByDescending(x => Path.GetFileName(x.Dir) == "6.0.0")
            .ThenByDescending(x => x.Version)
            .Select(x => x.Dir);
        foreach (var v in versions)
        {
            var lib = Path.Combine(v, "lib");
            if (!Directory.Exists(lib)) continue;
            foreach (var dll in Directory.GetFiles(lib, "Plotly.NET.dll", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                yield return dll;
        }
    }

    /// Reads the embedded plotly.js out of a Plotly.NET.dll with System.Reflection.Metadata; the assembly is never loaded.
    internal static PlotlyJs? ReadPlotlyFromDll(string dll)
    {
        try
        {
            using var fs = File.OpenRead(dll);
            using var pe = new PEReader(fs);
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is not { } cor) return null;
            var md = pe.GetMetadataReader();
            var resources = md.ManifestResources
                .Select(h => md.GetManifestResource(h))
                .Where(r => r.Implementation.IsNil)
                .ToDictionary(r => md.GetString(r.Name), r => r.Offset, StringComparer.Ordinal);
            var js = resources.Keys.Select(n => PlotlyResourceName.Match(n)).FirstOrDefault(m => m.Success);
            if (js is null) return null;

            string Read(long offset)
            {
                var block = pe.GetSectionData(cor.ResourcesDirectory.RelativeVirtualAddress);
                var reader = block.GetReader();
                reader.Offset = checked((int)offset);
                var length = reader.ReadInt32();
                return Encoding.UTF8.GetString(reader.ReadBytes(length));
            }
            var script = Read(resources[js.Value]);
            var license = resources.TryGetValue(js.Value + ".LICENSE.txt", out var lo) ? Read(lo) : null;
            return new PlotlyJs(script, js.Groups["v"].Value, dll, license);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? VersionOf(string script)
    {
        var m = Regex.Match(script.Length > 4000 ? script[..4000] : script, @"plotly\.js v(?<v>[0-9][0-9.]*)");
        return m.Success ? m.Groups["v"].Value : null;
    }

    // ---------------------------------------------------------------- shared page parts

    private static void PageStart(StringBuilder sb, string title, string? plotlySrc)
    {
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
          .Append("<meta name=\"generator\" content=\"cvnb\">\n")
          .Append("<title>").Append(E(title)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n");
        if (plotlySrc is not null)
        {
            sb.Append("<script src=\"").Append(E(plotlySrc)).Append("\" charset=\"utf-8\"></script>\n")
              .Append("<script>\n").Append(RequireShim).Append("</script>\n");
        }
        sb.Append("</head>\n<body>\n");
    }

    private const string Css = """
        :root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --code: #f6f8fa; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 13px; }
        a { color: #0969da; text-decoration: none; } a:hover { text-decoration: underline; }
        header { position: sticky; top: 0; z-index: 10; background: #f6f8fa; border-bottom: 1px solid var(--line); }
        header .wrap { max-width: 1100px; margin: 0 auto; padding: .55rem 1.5rem; display: flex; gap: 1rem; align-items: center; }
        header .site { font-weight: 600; }
        header .time { color: var(--muted); font-size: 13px; }
        main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
        h1, h2, h3 { line-height: 1.25; }
        .badge { display: inline-block; padding: 0 .55em; border-radius: 1em; font-size: 12px; font-weight: 600; color: #fff; }
        .badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
        .summary .ok { color: var(--ok); font-weight: 600; } .summary .bad { color: var(--bad); font-weight: 600; }
        .note { color: var(--warn); background: #fff8c5; border: 1px solid #d4a72c66; border-radius: 6px; padding: .4rem .7rem; }
        .info { color: var(--muted); font-size: 13px; }
        table { border-collapse: collapse; }
        table.runs { width: 100%; }
        table.runs th, table.runs td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        table.runs th { font-size: 13px; color: var(--muted); font-weight: 600; }
        table.runs tr.failed td { background: #fff8f8; }
        table.runs .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
        table.runs .sub { color: var(--muted); font-size: 13px; }
        table.runs .why { color: var(--bad); font-size: 13px; }
        .foot { color: var(--muted); font-size: 12px; margin-top: 2rem; }
        .banner { border: 1px solid var(--bad); background: #ffebe9; border-radius: 6px; padding: .6rem .9rem; margin-bottom: 1rem; }
        .banner pre { white-space: pre-wrap; margin: .4rem 0; }
        .cell { display: grid; grid-template-columns: 5.5rem minmax(0, 1fr); margin: .35rem 0; padding: .25rem 0; border-left: 4px solid transparent; }
        .cell.failed { border-left-color: var(--bad); background: #fff8f8; }
        .cell.expected { border-left-color: var(--warn); }
        .cell.skipped, .cell.notrun { opacity: .6; }
        .prompt { color: var(--muted); font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; text-align: right; padding: .55rem .6rem 0 0; white-space: nowrap; }
        .prompt .kernel { font-size: 11px; }
        .body { min-width: 0; }
        .status { color: var(--muted); font-size: 12px; margin-bottom: .15rem; }
        .cell.failed .status { color: var(--bad); font-weight: 600; }
        pre.input { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .55rem .8rem; margin: 0; overflow-x: auto; }
        .outputs { margin-top: .35rem; }
        .output { overflow-x: auto; margin: .15rem 0; }
        .output pre { margin: 0; padding: .2rem .1rem; white-space: pre-wrap; word-break: break-word; }
        .output.stderr pre { background: #fff5f5; color: #82071e; padding: .2rem .5rem; border-radius: 4px; }
        .output.error { border: 1px solid var(--bad); background: #ffebe9; border-radius: 6px; padding: .5rem .8rem; color: #82071e; }
        .output.error .ename { font-weight: 700; }
        .output.error .traceback { color: #57121a; margin-top: .3rem; }
        .output img { max-width: 100%; height: auto; }
        .output table, .md table { border-collapse: collapse; margin: .4rem 0; font-size: 13px; }
        .output th, .output td, .md th, .md td { border: 1px solid var(--line); padding: .25rem .55rem; }
        .output th, .md th { background: var(--code); }
        .md pre { background: var(--code); padding: .55rem .8rem; border-radius: 6px; overflow-x: auto; }
        .md code { background: var(--code); padding: .1em .3em; border-radius: 4px; }
        .md pre code { background: none; padding: 0; }
        .md img { max-width: 100%; }
        .md blockquote { margin: .5rem 0; padding: 0 1rem; color: var(--muted); border-left: 4px solid var(--line); }
        pre.rawcell { color: var(--muted); }

        """;

    // ---------------------------------------------------------------- helpers

    private static readonly Regex Ansi = new(@"\x1B(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1B]*(?:\x07|\x1B\\)|[@-Z\\-_])", RegexOptions.Compiled);

    internal static string StripAnsi(string s) => s.IndexOf('\x1B') < 0 ? s : Ansi.Replace(s, "");

    /// A progress bar that rewrites its line with '\r' shows as its last state.
    private static string ApplyCarriageReturns(string s)
    {
        if (s.IndexOf('\r') < 0) return s;
        var lines = s.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var cr = line.LastIndexOf('\r');
            lines[i] = cr < 0 ? line : line[(cr + 1)..];
        }
        return string.Join('\n', lines);
    }

    /// An nbformat string: a string or a list of strings.
    internal static string? Str(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray a => string.Concat(a.Select(x => x is JsonValue xv && xv.TryGetValue<string>(out var xs) ? xs : "")),
        _ => null,
    };

    internal static string E(string? s)
    {
        if (string.IsNullOrEmpty(s)) return "";
        var sb = new StringBuilder(s.Length + 16);
        foreach (var c in s)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    private static string Href(string rel) => string.Join('/', rel.Split('/').Select(Uri.EscapeDataString));

    private static string FirstLine(string? s) => StripAnsi(s ?? "").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";

    internal static string FormatDuration(TimeSpan t)
    {
        if (t < TimeSpan.FromSeconds(1)) return $"{t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms";
        if (t < TimeSpan.FromMinutes(1)) return $"{t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s";
        if (t < TimeSpan.FromHours(1)) return $"{(int)t.TotalMinutes} min {t.Seconds:00} s";
        return $"{(int)t.TotalHours} h {t.Minutes:00} min";
    }

    private static string? NotebookHeading(Notebook nb)
    {
        var md = nb.Cells.FirstOrDefault(c => c.Type == CellType.Markdown);
        if (md is null) return null;
        var m = Regex.Match(md.Source, @"^\s{0,3}#\s+(?<t>.+?)\s*#*\s*$", RegexOptions.Multiline);
        return m.Success ? m.Groups["t"].Value : null;
    }

    private static string NotebookTitle(Notebook nb, string relativePath) =>
        NotebookHeading(nb) is { } h ? $"{h} ({Path.GetFileName(relativePath)})" : relativePath.Replace('\\', '/');

    /// Files a previous export wrote that this one did not are removed, so the site never mixes two runs.
    private static void RemoveStale(string root, List<string> written)
    {
        var manifest = Path.Combine(root, ManifestName);
        var now = new HashSet<string>(written, StringComparer.Ordinal);
        if (File.Exists(manifest))
        {
            foreach (var line in File.ReadAllLines(manifest))
            {
                var rel = line.Trim();
                if (rel.Length == 0 || now.Contains(rel)) continue;
                var full = Path.GetFullPath(Path.Combine(root, rel));
                if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
                if (File.Exists(full)) File.Delete(full);
                for (var dir = Path.GetDirectoryName(full); dir is not null && dir.Length > root.Length
                     && Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any(); dir = Path.GetDirectoryName(dir))
                    Directory.Delete(dir);
            }
        }
        AtomicFile.WriteAllText(manifest, string.Join('\n', written) + "\n");
    }
}
