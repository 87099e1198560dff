using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using CvNotebooks.Runner.Documents;
using CvNotebooks.Runner.Execution;

namespace CvNotebooks.Runner.Export;

/// JUnit XML for CI systems: one testsuite, one testcase per notebook. classname is the notebook's folder
/// (dots between levels, the suite name for top-level notebooks), name its file name without .ipynb.
/// A notebook that ran and failed (a cell error, a timeout, a crashed kernel) is a failure; one that could not be
/// read at all is an error; one whose code cells were all skipped is skipped.
public static class JUnitWriter
{
    private const int MaxOutputChars = 64 * 1024;

    public static void Write(string path, IReadOnlyList<NotebookResult> results, string suiteName = "notebooks") =>
        AtomicFile.WriteAllText(path, Render(results, suiteName));

    internal static string Render(IReadOnlyList<NotebookResult> results, string suiteName)
    {
        int failures = 0, errors = 0, skipped = 0;
        var total = TimeSpan.Zero;
        var cases = new List<XElement>();
        foreach (var r in results)
        {
            total += r.Duration;
            var (classname, name) = Names(r.RelativePath, suiteName);
            var testcase = new XElement("testcase",
                new XAttribute("classname", Clean(classname)),
                new XAttribute("name", Clean(name)),
                new XAttribute("file", Clean(r.SourcePath)),
                new XAttribute("time", Seconds(r.Duration)));

            if (!r.Succeeded)
            {
                var kind = r.Executed is null ? "error" : "failure";
                if (r.Executed is null) errors++; else failures++;
                var failed = r.Cells.FirstOrDefault(c => c.Status is CellStatus.Failed or CellStatus.TimedOut or CellStatus.Unsupported);
                testcase.Add(new XElement(kind,
                    new XAttribute("message", Clean(FirstLine(r.Failure))),
                    new XAttribute("type", failed?.Status == CellStatus.TimedOut ? "CellTimeout" : ErrorName(r, failed) ?? "NotebookFailure"),
                    Clean(FailureText(r, failed))));
            }
            else if (r.Cells.Count > 0 && r.Cells.All(c => c.Status is CellStatus.Skipped or CellStatus.NotRun))
            {
                skipped++;
                testcase.Add(new XElement("skipped", new XAttribute("message", "every code cell was skipped")));
            }

            var (stdout, stderr) = Streams(r.Executed);
            if (r.OutputPath is not null) stdout = $"executed notebook: {r.OutputPath}\n" + stdout;
            if (stdout.Length > 0) testcase.Add(new XElement("system-out", Clean(Cap(stdout))));
            if (stderr.Length > 0) testcase.Add(new XElement("system-err", Clean(Cap(stderr))));
            cases.Add(testcase);
        }

        var counts = new object[]
        {
            new XAttribute("tests", results.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", errors),
            new XAttribute("skipped", skipped),
            new XAttribute("time", Seconds(total)),
        };
        var suite = new XElement("testsuite",
            new XAttribute("name", Clean(suiteName)),
            counts,
            new XAttribute("timestamp", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)),
            new XAttribute("hostname", Clean(Environment.MachineName)),
            cases);
        var doc = new XDocument(new XDeclaration("1.0", "utf-8", null),
            new XElement("testsuites", new XAttribute("name", Clean(suiteName)), counts, suite));

        var sb = new StringBuilder();
        using (var w = XmlWriter.Create(new StringWriterUtf8(sb), new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) }))
            doc.Save(w);
        return sb.Append('\n').ToString();
    }

    private static (string Classname, string Name) Names(string relativePath, string suiteName)
    {
        var parts = relativePath.Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToList();
        if (parts.Count == 0) return (suiteName, relativePath);
        var file = parts[^1];
        var name = file.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase) ? file[..^".ipynb".Length] : file;
        var classname = parts.Count > 1 ? string.Join('.', parts.Take(parts.Count - 1)) : suiteName;
        return (classname, name);
    }

    /// The failure as the runner reported it, then the failing cell's source and error output.
    private static string FailureText(NotebookResult r, CellResult? failed)
    {
        var sb = new StringBuilder();
        sb.Append(HtmlExporter.StripAnsi(r.Failure ?? "failed").TrimEnd()).Append('\n');
        var cell = FailingCell(r, failed);
        if (cell is not null)
        {
            sb.Append("\n--- cell ").Append(cell.Number);
            if (cell.ExecutionCount is { } n) sb.Append(" (In [").Append(n).Append("])");
            sb.Append(" ---\n").Append(cell.Source.TrimEnd()).Append('\n');
            foreach (var o in cell.Outputs.OfType<JsonObject>().Where(o => HtmlExporter.Str(o["output_type"]) == "error"))
            {
                var ename = HtmlExporter.Str(o["ename"]) ?? "Error";
                var evalue = HtmlExporter.StripAnsi(HtmlExporter.Str(o["evalue"]) ?? "");
                var trace = o["traceback"] is JsonArray tb
                    ? HtmlExporter.StripAnsi(string.Join("\n", tb.Select(HtmlExporter.Str).Where(t => t is not null))).TrimEnd()
                    : "";
                // .NET Interactive's traceback usually starts with the message; then it is all we need.
                if (trace.Length == 0 || !trace.Contains(evalue.Trim(), StringComparison.Ordinal))
                    sb.Append('\n').Append(ename).Append(": ").Append(evalue.TrimEnd());
                if (trace.Length > 0) sb.Append('\n').Append(trace);
                sb.Append('\n');
            }
        }
        if (failed?.Error is { } err && !sb.ToString().Contains(err.Trim(), StringComparison.Ordinal))
            sb.Append('\n').Append(HtmlExporter.StripAnsi(err).TrimEnd()).Append('\n');
        return Cap(sb.ToString());
    }

    private static Cell? FailingCell(NotebookResult r, CellResult? failed)
    {
        if (r.Executed is not { } nb) return null;
        if (failed is not null)
            return failed.Number >= 1 && failed.Number <= nb.Cells.Count ? nb.Cells[failed.Number - 1] : null;
        // No per-cell results: the first cell with an error output that was not expected to raise.
        return nb.Cells.FirstOrDefault(c => c.Type == CellType.Code && !c.HasTag("raises-exception")
            && c.Outputs.OfType<JsonObject>().Any(o => HtmlExporter.Str(o["output_type"]) == "error"));
    }

    private static string? ErrorName(NotebookResult r, CellResult? failed) =>
        FailingCell(r, failed)?.Outputs.OfType<JsonObject>()
            .Where(o => HtmlExporter.Str(o["output_type"]) == "error")
            .Select(o => HtmlExporter.Str(o["ename"]))
            .FirstOrDefault(n => !string.IsNullOrWhiteSpace(n));

    private static (string Stdout, string Stderr) Streams(Notebook? nb)
    {
        if (nb is null) return ("", "");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        foreach (var cell in nb.Cells.Where(c => c.Type == CellType.Code))
            foreach (var o in cell.Outputs.OfType<JsonObject>().Where(o => HtmlExporter.Str(o["output_type"]) == "stream"))
                (HtmlExporter.Str(o["name"]) == "stderr" ? stderr : stdout).Append(HtmlExporter.StripAnsi(HtmlExporter.Str(o["text"]) ?? ""));
        return (stdout.ToString(), stderr.ToString());
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);

    private static string FirstLine(string? s) =>
        HtmlExporter.StripAnsi(s ?? "").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "failed";

    private static string Cap(string s) => s.Length <= MaxOutputChars ? s : s[..MaxOutputChars] + $"\n... ({s.Length - MaxOutputChars} more characters)";

    /// XML 1.0 cannot hold most control characters (ANSI escapes, NUL); they are dropped.
    private static string Clean(string s)
    {
        if (s.All(XmlConvert.IsXmlChar)) return s;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && XmlConvert.IsXmlSurrogatePair(s[i + 1], s[i]))
            {
                sb.Append(s[i]).Append(s[i + 1]);
                i++;
            }
            else if (XmlConvert.IsXmlChar(s[i]))
            {
                sb.Append(s[i]);
            }
        }
        return sb.ToString();
    }

    private sealed class StringWriterUtf8(StringBuilder sb) : StringWriter(sb, CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => new UTF8Encoding(false);
    }
}
