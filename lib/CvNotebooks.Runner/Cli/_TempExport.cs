namespace CvNotebooks.Runner.Export;
public static class HtmlExporter { public static void WriteSite(string d, IReadOnlyList<CvNotebooks.Runner.Execution.NotebookResult> r, string title = "") {} }
public static class JUnitWriter { public static void Write(string p, IReadOnlyList<CvNotebooks.Runner.Execution.NotebookResult> r, string s = "") {} }
