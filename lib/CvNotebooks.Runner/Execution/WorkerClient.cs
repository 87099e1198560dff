using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using CvNotebooks.Runner.Kernel;

namespace CvNotebooks.Runner.Execution;

/// The runner's side of one worker process.
internal sealed class WorkerClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<JsonObject> _events = Channel.CreateUnbounded<JsonObject>();
    private readonly Queue<string> _stderrTail = new();
    private readonly List<string> _crashReport = [];
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;

    private WorkerClient(Process process)
    {
        _process = process;
        _stdoutPump = Task.Run(PumpStdoutAsync);
        _stderrPump = Task.Run(PumpStderrAsync);
    }

    public static WorkerClient Start(string workingDirectory)
    {
        var info = new ProcessStartInfo
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        var (file, args) = SelfCommand();
        info.FileName = file;
        foreach (var a in args) info.ArgumentList.Add(a);
        info.ArgumentList.Add("worker");
        // The worker's formatting and stack traces must not depend on the user's locale.
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        info.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the worker process");
        return new WorkerClient(process);
    }

    /// How to start this same program again: the apphost when there is one, else `dotnet cvnb.dll`.
    internal static (string File, string[] Args) SelfCommand()
    {
        var processPath = Environment.ProcessPath ?? "dotnet";
        var entry = typeof(WorkerClient).Assembly.Location;
        var name = Path.GetFileNameWithoutExtension(processPath);
        if (name.Equals("dotnet", StringComparison.OrdinalIgnoreCase) || name.Equals("testhost", StringComparison.OrdinalIgnoreCase))
        {
            var apphost = Path.Combine(Path.GetDirectoryName(entry)!, Path.GetFileNameWithoutExtension(entry));
            if (!OperatingSystem.IsWindows() && File.Exists(apphost)) return (apphost, []);
            return (DotnetHost(), [entry]);
        }
        return (processPath, []);
    }

    private static string DotnetHost()
    {
        var root = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(root) && File.Exists(root) ? root : "dotnet";
    }

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public string StderrTail
    {
        get { lock (_stderrTail) return string.Join("\n", _stderrTail); }
    }

    public async Task SendAsync(JsonObject message)
    {
        await _process.StandardInput.WriteAsync(Protocol.Line(message) + "\n");
        await _process.StandardInput.FlushAsync();
    }

    /// The next message from the worker, or null when it has exited (its stream ended).
    public async Task<JsonObject?> ReadAsync(CancellationToken token)
    {
        try
        {
            return await _events.Reader.ReadAsync(token);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
                if (Protocol.Parse(line) is { } message) await _events.Writer.WriteAsync(message);
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    private async Task PumpStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            lock (_stderrTail)
            {
                _stderrTail.Enqueue(line);
                while (_stderrTail.Count > 40) _stderrTail.Dequeue();
                // The runtime's stack overflow report starts with the frames that repeat, then prints the whole
                // stack: far more than the tail keeps. Its head is what names the problem.
                if (_crashReport.Count > 0 ? _crashReport.Count < 8 : line.StartsWith("Stack overflow.", StringComparison.Ordinal))
                    _crashReport.Add(line);
            }
            Log?.Invoke(line);
        }
    }

    /// The first lines of the runtime's stack overflow report, or "" when there was none.
    public string CrashReport
    {
        get { lock (_stderrTail) return string.Join("\n", _crashReport); }
    }

    /// After the worker's stdout ended: waits until the process has exited and its stderr is read to the end,
    /// so that the exit code and the runtime's last words are there to describe what happened.
    public async Task WaitForEndAsync(TimeSpan timeout)
    {
        await WaitForExitAsync(timeout);
        await _stderrPump.WaitAsync(timeout).ContinueWith(_ => { });
    }

    public Action<string>? Log { get; set; }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { Kill(); }
    }

    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try { await SendAsync(new JsonObject { ["op"] = "quit" }); }
            catch (IOException) { }
            await WaitForExitAsync(TimeSpan.FromSeconds(5));
        }
        Kill();
        await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        _process.Dispose();
    }
}
