using System.Diagnostics;
using System.Reactive.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Directives;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace CvNotebooks.Runner.Kernel;

/// The worker process: one notebook's C# session on the real .NET Interactive C# kernel (Roslyn scripting).
/// It reads cells from the runner and streams nbformat outputs back, so the runner keeps everything produced
/// up to a hang or a crash and can kill this process without losing the record.
public static partial class WorkerHost
{
    public static async Task<int> RunAsync()
    {
        var (commands, protocol) = TakeOverStandardStreams();
        using var kernel = CreateKernel();
        await WarmUpAsync(kernel);
        var current = -1;
        using var subscription = kernel.KernelEvents.Subscribe(e => Forward(e, current, protocol));
        Send(protocol, new JsonObject { ["ev"] = "ready" });

        while (await commands.ReadLineAsync() is { } line)
        {
            var message = Protocol.Parse(line);
            if (message is null) continue;
            var op = message["op"]?.GetValue<string>();
            if (op == "quit") break;
            if (op != "run") continue;

            current = message["cell"]!.GetValue<int>();
            var code = message["code"]!.GetValue<string>();
            var kernelName = message["kernel"]?.GetValue<string>() ?? "csharp";
            var ok = await SubmitAsync(kernel, code, kernelName, current, protocol);
            Send(protocol, new JsonObject { ["ev"] = "done", ["cell"] = current, ["ok"] = ok });
        }
        return 0;
    }

    /// Roslyn's first submission is slow (seconds of JIT and compiler start-up, more on a busy machine). Paying it
    /// here, before "ready" and before any event is forwarded, keeps it out of the first cell: the per-cell
    /// timeout is the cell's own time, and the start-up timeout covers the kernel's.
    private static async Task WarmUpAsync(CompositeKernel kernel)
    {
        try { await kernel.SendAsync(new SubmitCode("0", "csharp")); }
        catch (Exception) { /* a kernel that cannot run "0" fails the first real cell with the reason */ }
    }

    private static async Task<bool> SubmitAsync(CompositeKernel kernel, string code, string kernelName, int cell, TextWriter protocol)
    {
        KernelCommandResult result;
        try
        {
            result = await kernel.SendAsync(new SubmitCode(code, kernelName));
        }
        catch (Exception e)
        {
            Send(protocol, new JsonObject { ["ev"] = "output", ["cell"] = cell, ["output"] = Outputs.Error(e.GetType().FullName!, e.Message) });
            return false;
        }
        var failed = result.Events.OfType<CommandFailed>().FirstOrDefault();
        // A package restored by this cell may carry a kernel extension script; the real kernel runs it right
        // after the restore, so its formatters are in place before the next cell.
        while (failed is null && PackageExtensions.Next() is { } extension)
        {
            result = await kernel.SendAsync(new SubmitCode(extension, "csharp"));
            failed = result.Events.OfType<CommandFailed>().FirstOrDefault();
            code = extension;
        }
        if (failed is null) return true;
        Send(protocol, new JsonObject { ["ev"] = "output", ["cell"] = cell, ["output"] = ErrorOutput(failed, code) });
        return false;
    }

    public static CompositeKernel CreateKernel()
    {
        var csharp = new CSharpKernel()
            .UseNugetDirective((k, references) =>
            {
                var resolved = references.ToList();
                NativeProbing.Add(resolved.SelectMany(r => r.ProbingPaths.Append(r.PackageRoot)));
                k.AddAssemblyReferences(resolved.SelectMany(r => r.AssemblyPaths));
                PackageExtensions.Found(resolved.Select(r => r.PackageRoot));
                return Task.CompletedTask;
            }, false)
            .UseKernelHelpers()
            .UseValueSharing();
        EnableLineNumbers(csharp);
        var composite = new CompositeKernel();
        composite.Add(csharp, ["c#", "C#"]);
        composite.Add(new HtmlKernel());
        composite.Add(new MarkdownKernel(), ["md"]);
        composite.DefaultKernelName = csharp.Name;
        AddTimeDirective(composite);
        NativeProbing.Install();
        return composite;
    }

    /// The kernel compiles without debug information, so an exception's stack has no line numbers.
    /// With a PDB (which needs a source encoding), the frame in the submission carries the cell's line.
    private static void EnableLineNumbers(CSharpKernel kernel)
    {
        var field = typeof(CSharpKernel).GetField("_scriptOptions", BindingFlags.Instance | BindingFlags.NonPublic);
        if (field?.GetValue(kernel) is ScriptOptions options)
            field.SetValue(kernel, options.WithEmitDebugInformation(true).WithFileEncoding(Encoding.UTF8));
    }

    /// `#!time` as the dotnet-interactive tool defines it: wall time of the rest of the cell.
    private static void AddTimeDirective(CompositeKernel kernel)
    {
        kernel.AddDirective(new KernelActionDirective("#!time") { Description = "Time the execution of the following code in the submission." },
            (_, context) =>
            {
                var timer = Stopwatch.StartNew();
                context.OnComplete(c =>
                {
                    var text = $"Wall time: {timer.Elapsed.TotalMilliseconds}ms";
                    c.Publish(new DisplayedValueProduced(timer.Elapsed, c.Command, [new FormattedValue(PlainTextFormatter.MimeType, text)]));
                });
                return Task.CompletedTask;
            });
    }

    private static void Forward(KernelEvent e, int cell, TextWriter protocol)
    {
        JsonObject? message = e switch
        {
            StandardOutputValueProduced o => Output(cell, Outputs.Stream("stdout", PlainText(o))),
            StandardErrorValueProduced o => Output(cell, Outputs.Stream("stderr", PlainText(o))),
            ReturnValueProduced r => Output(cell, Outputs.Display(Values(r), executionCount: 0)),
            DisplayedValueUpdated u => new JsonObject { ["ev"] = "update", ["cell"] = cell, ["displayId"] = u.ValueId, ["output"] = Outputs.Display(Values(u)) },
            DisplayedValueProduced d => Output(cell, Outputs.Display(Values(d)), d.ValueId),
            _ => null,
        };
        if (message is not null) Send(protocol, message);
    }

    private static JsonObject Output(int cell, JsonObject output, string? displayId = null)
    {
        var m = new JsonObject { ["ev"] = "output", ["cell"] = cell, ["output"] = output };
        if (displayId is not null) m["displayId"] = displayId;
        return m;
    }

    private static string PlainText(DisplayEvent e) =>
        e.FormattedValues.FirstOrDefault(v => v.MimeType == PlainTextFormatter.MimeType)?.Value ?? e.Value?.ToString() ?? "";

    private static IEnumerable<(string, string)> Values(DisplayEvent e) =>
        e.FormattedValues.Where(v => !v.SuppressDisplay).Select(v => (v.MimeType, v.Value));

    /// A compile error keeps the kernel's own text, `(line,col): error CSnnnn: message`. An exception is named
    /// by its type and message, with the line in the cell where it was thrown.
    internal static JsonObject ErrorOutput(CommandFailed failed, string code)
    {
        if (failed.Exception is not { } ex || ex is CodeSubmissionCompilationErrorException)
            return Outputs.Error("Error", failed.Message, failed.Message.Split('\n').Select(l => l.TrimEnd('\r')));

        var line = SubmissionLine(ex);
        var trace = new List<string> { $"{ex.GetType().FullName}: {ex.Message}" };
        // A type initializer or a task hides the cause; a learner needs it (e.g. a missing native library).
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            trace.Add($" ---> {inner.GetType().FullName}: {inner.Message}");
        if (line is { } n)
            trace.Add($"   at line {n} of the cell: {code.Split('\n').ElementAtOrDefault(n - 1)?.Trim()}");
        trace.AddRange((ex.StackTrace ?? "").Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .TakeWhile(l => !l.Contains("Microsoft.CodeAnalysis.Scripting", StringComparison.Ordinal))
            .Where(l => l.Length > 0 && !l.Contains("--- End of stack trace", StringComparison.Ordinal))
            .Select(l => EmptyFileLine().Replace(l, " (cell line $1)")));
        var evalue = line is { } m ? $"{ex.Message} (cell line {m})" : ex.Message;
        return Outputs.Error(ex.GetType().FullName!, evalue, trace);
    }

    private static int? SubmissionLine(Exception ex)
    {
        foreach (var frame in new StackTrace(ex, true).GetFrames())
        {
            var type = frame.GetMethod()?.DeclaringType;
            var inSubmission = type?.Assembly.FullName?.StartsWith("ℛ*", StringComparison.Ordinal) == true
                || type?.FullName?.StartsWith("Submission#", StringComparison.Ordinal) == true;
            if (inSubmission && frame.GetFileLineNumber() > 0) return frame.GetFileLineNumber();
        }
        var match = LineInTrace().Match(ex.StackTrace ?? "");
        return match.Success ? int.Parse(match.Groups[1].Value) : null;
    }

    // A submission has no file name, so the runtime prints "in :line 3".
    [GeneratedRegex(@" in :line (\d+)$")]
    private static partial Regex EmptyFileLine();

    [GeneratedRegex(@"Submission#\d+.*?:line (\d+)")]
    private static partial Regex LineInTrace();

    private static readonly object SendLock = new();

    private static void Send(TextWriter protocol, JsonObject message)
    {
        var line = Protocol.Line(message);
        lock (SendLock)
        {
            protocol.Write(line);
            protocol.Write('\n');
            protocol.Flush();
        }
    }

    /// The protocol gets private copies of stdin and stdout. Then fd 0 becomes /dev/null (a cell reading the
    /// console must not eat runner messages) and fd 1 points at stderr (native code printing to stdout must not
    /// corrupt the protocol; it shows up in the runner's log instead).
    private static (TextReader Commands, TextWriter Protocol) TakeOverStandardStreams()
    {
        var inFd = dup(0);
        var outFd = dup(1);
        if (inFd < 0 || outFd < 0) throw new IOException("worker: cannot duplicate the standard streams");
        var devNull = open("/dev/null", 0);
        if (devNull >= 0) { dup2(devNull, 0); close(devNull); }
        dup2(2, 1);
        var input = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(inFd, true), FileAccess.Read, 1);
        var output = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(outFd, true), FileAccess.Write, 1);
        Console.SetOut(new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true });
        return (new StreamReader(input, new UTF8Encoding(false)), new StreamWriter(output, new UTF8Encoding(false)) { AutoFlush = false });
    }

    [DllImport("libc", SetLastError = true)] private static extern int dup(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int dup2(int fd, int fd2);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi)] private static extern int open(string path, int flags);
}
