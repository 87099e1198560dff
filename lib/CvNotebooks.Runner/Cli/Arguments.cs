namespace CvNotebooks.Runner.Cli;

public sealed class UsageException(string message) : Exception(message);

/// A small, strict parser: every option is known, every value checked, and a mistake is a usage error (exit 2).
internal sealed class Arguments
{
    private readonly Queue<string> _args;
    public List<string> Positional { get; } = [];

    public Arguments(IEnumerable<string> args) => _args = new Queue<string>(args);

    public bool Next(out string option)
    {
        while (_args.TryDequeue(out var arg))
        {
            if (arg == "--")
            {
                Positional.AddRange(_args);
                _args.Clear();
                break;
            }
            if (arg.StartsWith('-') && arg.Length > 1)
            {
                var eq = arg.IndexOf('=');
                if (arg.StartsWith("--") && eq > 0)
                {
                    option = arg[..eq];
                    _pendingValue = arg[(eq + 1)..];
                    return true;
                }
                option = arg;
                _pendingValue = null;
                return true;
            }
            Positional.Add(arg);
        }
        option = "";
        return false;
    }

    private string? _pendingValue;

    public string Value(string option)
    {
        if (_pendingValue is { } v)
        {
            _pendingValue = null;
            return v;
        }
        if (!_args.TryDequeue(out var value) || (value.StartsWith('-') && value.Length > 1 && !double.TryParse(value, out _)))
            throw new UsageException($"{option} needs a value");
        return value;
    }

    public int Int(string option, int min, int max)
    {
        var raw = Value(option);
        if (!int.TryParse(raw, out var n) || n < min || n > max)
            throw new UsageException($"{option} must be a whole number from {min} to {max}, not '{raw}'");
        return n;
    }

    public double Double(string option, double min)
    {
        var raw = Value(option);
        if (!double.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < min)
            throw new UsageException($"{option} must be a number of at least {min}, not '{raw}'");
        return n;
    }
}
