namespace CvNotebooks;

/// A notebook's closing checks. A failed check throws, so the runner (and CI) fail the notebook when it
/// stops teaching what it says.
public sealed class CheckFailedException(string message) : Exception(message);

public static class Check
{
    /// Passes silently when true; throws with the description otherwise. The description says what was
    /// expected and what happened, e.g. $"digit classifier reached {accuracy:P1}".
    public static void That(bool condition, string description)
    {
        if (!condition) throw new CheckFailedException($"Check failed: {description}");
        Passed.Add(description);
    }

    /// Passes when the absolute difference of actual and expected is at most tolerance.
    public static void Close(double actual, double expected, double tolerance, string what) =>
        That(Math.Abs(actual - expected) <= tolerance, $"{what}: {actual:G6} is within {tolerance:G3} of {expected:G6}");

    /// The descriptions of the checks that passed in this session, in order (a notebook can display them).
    public static List<string> Passed { get; } = [];
}
