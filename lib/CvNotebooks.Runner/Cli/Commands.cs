using CvNotebooks.Runner.Documents;
using CvNotebooks.Runner.Execution;
using CvNotebooks.Runner.Export;

namespace CvNotebooks.Runner.Cli;

public static class Commands
{
    public const int Ok = 0, Failed = 1, Usage = 2;

    public const string Help = """
        cvnb: run .NET Interactive (Polyglot Notebooks) C# notebooks headless.

        Usage:
          cvnb execute PATH... [options]   execute notebooks (a folder is searched recursively, in name order)
              --output DIR        where executed copies go, keeping relative paths (default artifacts/executed)
              --inplace           write the executed notebook over its source instead
              --timeout SECONDS   per-cell timeout (default 600)
              --allow-errors      record cell errors and go on; the notebook still counts as passed
              -p NAME=VALUE       set a parameter declared in the cell tagged 'parameters' (repeatable)
              --jobs N            notebooks run at once (default 1)
              --junit FILE        write a JUnit XML report
              --html DIR          write a static HTML site of the executed notebooks
              --verbose           show the kernels' own log lines
          cvnb validate PATH...              check nbformat 4 and Polyglot metadata
          cvnb strip PATH... [--solutions] [--output DIR]
                                             clear outputs; --solutions also removes cells tagged 'solution'
                                             (a student copy: needs --output so the source keeps its solutions)
          cvnb export --html DIR PATH...     render notebooks (as they are) into a static HTML site

        Exit codes: 0 all succeeded, 1 a notebook failed or is invalid, 2 a usage error.
        """;

    public static async Task<int> MainAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Help);
            return args.Length == 0 ? Usage : Ok;
        }
        try
        {
            return args[0] switch
            {
                "execute" => await ExecuteCommand.RunAsync(args[1..], stdout, stderr),
                "validate" => Validate(args[1..], stdout, stderr),
                "strip" => Strip(args[1..], stdout),
                "export" => Export(args[1..], stdout),
                "--version" or "version" => Version(stdout),
                _ => throw new UsageException($"unknown command '{args[0]}'; try execute, validate, strip or export"),
            };
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"cvnb: {e.Message}");
            stderr.WriteLine("Run 'cvnb --help' for usage.");
            return Usage;
        }
    }

    private static int Version(TextWriter stdout)
    {
        stdout.WriteLine(typeof(Commands).Assembly.GetName().Version);
        return Ok;
    }

    /// Notebooks named by the command line: files as given, folders searched recursively in ordinal name order.
    /// Each comes with its path relative to the folder it was found under, which output paths keep.
    public static List<(string Path, string Relative)> FindNotebooks(IEnumerable<string> paths, string? exclude = null)
    {
        var found = new List<(string, string)>();
        var excludeFull = exclude is null ? null : Path.GetFullPath(exclude) + Path.DirectorySeparatorChar;
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                if (!path.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase))
                    throw new UsageException($"{path}: not a notebook (.ipynb)");
                found.Add((path, Path.GetFileName(path)));
            }
            else if (Directory.Exists(path))
            {
                var inFolder = Directory.EnumerateFiles(path, "*.ipynb", SearchOption.AllDirectories)
                    .Select(f => (Path: f, Relative: Path.GetRelativePath(path, f)))
                    .Where(f => !f.Relative.Split(Path.DirectorySeparatorChar).Any(part => part is ".ipynb_checkpoints" or "bin" or "obj"))
                    .Where(f => excludeFull is null || !Path.GetFullPath(f.Path).StartsWith(excludeFull, StringComparison.Ordinal))
                    .OrderBy(f => f.Relative.Replace('\\', '/'), StringComparer.Ordinal)
                    .ToList();
                if (inFolder.Count == 0) throw new UsageException($"{path}: no notebooks (.ipynb) in this folder");
                found.AddRange(inFolder);
            }
            else
            {
                throw new UsageException($"{path}: no such file or folder");
            }
        }
        if (found.Count == 0) throw new UsageException("no notebooks given");
        return found;
    }

    private static int Validate(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Arguments(args);
        while (a.Next(out var option)) throw new UsageException($"validate: unknown option {option}");
        var notebooks = FindNotebooks(a.Positional);
        var bad = 0;
        foreach (var (path, _) in notebooks)
        {
            var problems = NotebookValidator.Validate(path);
            if (problems.Count == 0) { stdout.WriteLine($"ok      {path}"); continue; }
            bad++;
            stdout.WriteLine($"INVALID {path}");
            foreach (var p in problems) stderr.WriteLine($"  {p}");
        }
        stdout.WriteLine($"{notebooks.Count - bad} valid, {bad} invalid");
        return bad == 0 ? Ok : Failed;
    }

    private static int Strip(string[] args, TextWriter stdout)
    {
        var a = new Arguments(args);
        var solutions = false;
        string? output = null;
        while (a.Next(out var option))
        {
            switch (option)
            {
                case "--solutions": solutions = true; break;
                case "--output" or "-o": output = a.Value(option); break;
                default: throw new UsageException($"strip: unknown option {option}");
            }
        }
        if (solutions && output is null)
            throw new UsageException("strip --solutions would delete the solutions from the source notebooks; give --output DIR for the student copies");
        var notebooks = FindNotebooks(a.Positional, output);
        var loaded = new List<(Notebook Notebook, string Target)>();
        foreach (var (path, relative) in notebooks)
        {
            // Load everything first: a bad file stops the command before anything is written.
            Notebook nb;
            try { nb = Notebook.Load(path); }
            catch (NotebookFormatException e) { throw new UsageException(e.Message); }
            loaded.Add((nb, output is null ? path : Path.Combine(output, relative)));
        }
        foreach (var (nb, target) in loaded)
        {
            var removed = solutions ? nb.Cells.RemoveAll(c => c.HasTag("solution")) : 0;
            foreach (var cell in nb.Cells) cell.ClearOutputs();
            nb.Save(target);
            stdout.WriteLine(solutions ? $"stripped {target} ({removed} solution cell(s) removed)" : $"stripped {target}");
        }
        return Ok;
    }

    private static int Export(string[] args, TextWriter stdout)
    {
        var a = new Arguments(args);
        string? html = null;
        while (a.Next(out var option))
        {
            switch (option)
            {
                case "--html": html = a.Value(option); break;
                default: throw new UsageException($"export: unknown option {option}");
            }
        }
        if (html is null) throw new UsageException("export needs --html DIR");
        var results = new List<NotebookResult>();
        foreach (var (path, relative) in FindNotebooks(a.Positional, html))
        {
            Notebook nb;
            try { nb = Notebook.Load(path); }
            catch (NotebookFormatException e) { throw new UsageException(e.Message); }
            var failure = nb.Cells.SelectMany(c => c.Outputs).OfType<System.Text.Json.Nodes.JsonObject>()
                .Any(o => o["output_type"]?.GetValue<string>() == "error") ? "the notebook contains error outputs" : null;
            results.Add(new NotebookResult { SourcePath = path, RelativePath = relative, Executed = nb, Failure = failure });
        }
        HtmlExporter.WriteSite(html, results);
        stdout.WriteLine($"wrote {results.Count} page(s) and index.html to {html}");
        return Ok;
    }
}
