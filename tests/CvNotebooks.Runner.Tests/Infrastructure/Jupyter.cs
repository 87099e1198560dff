using System.Diagnostics;
using System.Text;
using Xunit;

namespace CvNotebooks.Runner.Tests.Infrastructure;

/// The reference implementation of the format: Debian's python3-nbformat and jupyter-nbconvert.
/// They are required; a machine without them fails these checks with the command that installs them.
public static class Jupyter
{
    private const string Python = "/usr/bin/python3";
    private const string Setup = "run environment/setup.sh (it installs the apt packages python3-nbformat and jupyter-nbconvert)";

    /// nbformat.validate(nbformat.read(file, as_version=4)) for each file, in one Python process.
    public static void Validate(params string[] files)
    {
        Assert.NotEmpty(files);
        RequirePython();
        const string script = """
            import sys
            import nbformat
            bad = 0
            for path in sys.argv[1:]:
                try:
                    nbformat.validate(nbformat.read(path, as_version=4))
                    print("valid " + path)
                except Exception as e:
                    bad += 1
                    print("INVALID " + path + ": " + type(e).__name__ + ": " + str(e)[:2000])
            sys.exit(1 if bad else 0)
            """;
        var (code, stdout, stderr) = Run(Python, ["-c", script, .. files]);
        if (stderr.Contains("No module named", StringComparison.Ordinal))
            Assert.Fail($"Debian's python3-nbformat is not installed: {Setup}.\n{stderr}");
        Assert.True(code == 0, $"nbformat rejects executed notebooks:\n{stdout}\n{stderr}");
    }

    /// `jupyter nbconvert --to html FILES --output-dir DIR`; returns the HTML files written.
    public static IReadOnlyList<string> ConvertToHtml(string outputDir, params string[] files)
    {
        Assert.NotEmpty(files);
        var nbconvert = File.Exists("/usr/bin/jupyter-nbconvert") ? "/usr/bin/jupyter-nbconvert" : FindOnPath("jupyter-nbconvert");
        if (nbconvert is null)
            Assert.Fail($"jupyter-nbconvert is not installed: {Setup}.");
        var (code, stdout, stderr) = Run(nbconvert, ["--to", "html", .. files, "--output-dir", outputDir]);
        if (stderr.Contains("No module named", StringComparison.Ordinal))
            Assert.Fail($"{nbconvert} cannot import its modules: {Setup}.\n{stderr}");
        Assert.True(code == 0, $"jupyter nbconvert --to html failed (exit {code}):\n{stdout}\n{stderr}");
        var written = files.Select(f => Path.Combine(outputDir, Path.GetFileNameWithoutExtension(f) + ".html")).ToList();
        foreach (var html in written)
        {
            Assert.True(File.Exists(html), $"nbconvert did not write {html}:\n{stderr}");
            Assert.Contains("<html", File.ReadAllText(html), StringComparison.OrdinalIgnoreCase);
        }
        return written;
    }

    private static void RequirePython()
    {
        if (!File.Exists(Python))
            Assert.Fail($"{Python} is missing: {Setup}.");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static (int Code, string Stdout, string Stderr) Run(string file, string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        // Debian's tools with Debian's own modules: a virtualenv or pyenv on PATH must not leak into them.
        info.Environment.Remove("PYTHONPATH");
        info.Environment.Remove("PYTHONHOME");
        info.Environment.Remove("VIRTUAL_ENV");
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args.Take(3))} ... did not finish within 2 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
