using System.Text.Json.Nodes;
using CvNotebooks.Runner.Tests.Infrastructure;
using Xunit;
using static CvNotebooks.Runner.Tests.Infrastructure.Ipynb;

namespace CvNotebooks.Runner.Tests;

/// The sample notebooks are what VS Code Polyglot Notebooks writes (and, for 10, what older .NET Interactive
/// wrote); if they drifted from the real format, every behaviour test would be testing the wrong thing.
public sealed class FixtureFormatTests
{
    /// Fixtures in today's Polyglot format that `cvnb validate` accepts.
    public static readonly string[] Polyglot =
    [
        "01-state-and-output.ipynb", "02-magics.ipynb", "03-tags.ipynb", "04-raises-missing.ipynb", "05-compile-error.ipynb",
        "06-exception.ipynb", "07-fsharp.ipynb", "08-unknown-magic.ipynb", "09-parameters.ipynb", "11-opencv.ipynb",
        "12-dll-reference.ipynb", "13-hang.ipynb", "14-exit.ipynb", "15-stack-overflow.ipynb", "19-exercises.ipynb",
        "20-all-skipped.ipynb",
    ];

    public static IEnumerable<object[]> PolyglotFixtures => Polyglot.Append("18-broken-metadata.ipynb").Select(f => new object[] { f });

    private static string FixturePath(string name) => Path.Combine(Workspace.FixturesDir, name);

    [Fact]
    public void Every_fixture_is_accounted_for()
    {
        var all = Directory.GetFiles(Workspace.FixturesDir, "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        var known = Polyglot.Concat(["10-legacy-format.ipynb", "16-invalid-json.ipynb", "17-nbformat3.ipynb", "18-broken-metadata.ipynb"])
            .Order(StringComparer.Ordinal);
        Assert.Equal(known, all);
    }

    [Theory]
    [MemberData(nameof(PolyglotFixtures))]
    public void Fixture_is_in_the_polyglot_notebooks_format(string name)
    {
        var text = File.ReadAllText(FixturePath(name));
        Assert.StartsWith("{\n \"cells\": [\n", text); // one-space indent, as VS Code writes .ipynb
        Assert.EndsWith("}\n", text);

        var nb = Load(FixturePath(name));
        Assert.Equal(4, nb.Root["nbformat"]!.GetValue<int>());
        Assert.Equal(2, nb.Root["nbformat_minor"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"}"""), nb.Metadata["kernelspec"]));
        Assert.Equal("polyglot-notebook", nb.Metadata["language_info"]!["name"]!.GetValue<string>());
        var kernelInfo = nb.Metadata["polyglot_notebook"]!["kernelInfo"]!;
        Assert.Equal("csharp", kernelInfo["defaultKernelName"]!.GetValue<string>());
        var items = kernelInfo["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
        Assert.Contains(items, i => JsonNode.DeepEquals(i, JsonNode.Parse("""{"aliases": [], "name": "csharp"}""")));
        Assert.All(items, i => Assert.IsType<JsonArray>(i["aliases"]));

        foreach (var cell in nb.Cells)
        {
            var lines = Assert.IsType<JsonArray>(cell["source"]).Select(l => l!.GetValue<string>()).ToList();
            Assert.NotEmpty(lines);
            Assert.All(lines[..^1], l => Assert.EndsWith("\n", l));
            Assert.DoesNotContain("\n", lines[^1]);
            if (cell["cell_type"]!.GetValue<string>() != "code") continue;
            Assert.NotNull(cell["metadata"]!["polyglot_notebook"]!["kernelName"]);
            Assert.IsType<JsonArray>(cell["outputs"]);
            Assert.True(cell.ContainsKey("execution_count"));
        }
    }

    [Fact]
    public void The_legacy_fixture_uses_dotnet_interactive_language_metadata()
    {
        var nb = Load(FixturePath("10-legacy-format.ipynb"));
        Assert.Null(nb.Metadata["polyglot_notebook"]);
        Assert.Equal(".net-csharp", nb.Metadata["kernelspec"]!["name"]!.GetValue<string>());
        var code = nb.Cells.Where(c => c["cell_type"]!.GetValue<string>() == "code").ToList();
        Assert.All(code, c => Assert.NotNull(c["metadata"]!["dotnet_interactive"]!["language"]));
        Assert.All(code, c => Assert.Null(c["metadata"]!["polyglot_notebook"]));
    }

    [Fact]
    public void Fixtures_other_than_the_deliberately_unreadable_ones_validate_with_nbformat()
    {
        var files = Directory.GetFiles(Workspace.FixturesDir, "*.ipynb")
            .Where(f => !Path.GetFileName(f).StartsWith("16-", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith("17-", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToArray();
        Jupyter.Validate(files);
    }
}
