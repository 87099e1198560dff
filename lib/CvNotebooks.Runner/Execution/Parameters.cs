using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using CvNotebooks.Runner.Documents;

namespace CvNotebooks.Runner.Execution;

public sealed class ParameterException(string message) : Exception(message);

/// papermill's parameters for C#: the cell tagged `parameters` declares defaults; values given on the command
/// line go into a new cell tagged `injected-parameters` right after it, each typed as its declaration.
public static class Parameters
{
    public const string Tag = "parameters";
    public const string InjectedTag = "injected-parameters";

    public sealed record Declaration(string Name, string TypeName);

    public static IReadOnlyList<Declaration> Declared(Notebook notebook)
    {
        var cell = notebook.Cells.FirstOrDefault(c => c.Type == CellType.Code && c.HasTag(Tag));
        return cell is null ? [] : Parse(cell.Source);
    }

    public static IReadOnlyList<Declaration> Parse(string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(kind: SourceCodeKind.Script));
        var result = new List<Declaration>();
        foreach (var declaration in tree.GetRoot().DescendantNodes().OfType<VariableDeclarationSyntax>())
        {
            if (declaration.Parent is not (FieldDeclarationSyntax or LocalDeclarationStatementSyntax)) continue;
            foreach (var variable in declaration.Variables)
            {
                var type = declaration.Type.ToString();
                if (type == "var") type = InferType(variable.Initializer?.Value) ?? "var";
                result.Add(new Declaration(variable.Identifier.Text, type));
            }
        }
        return result;
    }

    /// Inserts (or replaces) the injected-parameters cell. Throws ParameterException naming the problem.
    public static void Inject(Notebook notebook, IReadOnlyList<KeyValuePair<string, string>> values)
    {
        if (values.Count == 0) return;
        var parametersCell = notebook.Cells.FirstOrDefault(c => c.Type == CellType.Code && c.HasTag(Tag))
            ?? throw new ParameterException($"{notebook.SourceName}: parameters were given ({string.Join(", ", values.Select(v => v.Key))}) but no cell is tagged 'parameters'");
        var declared = Parse(parametersCell.Source).ToDictionary(d => d.Name);
        var lines = new List<string> { "// Parameters injected by cvnb" };
        foreach (var (name, raw) in values)
        {
            if (!declared.TryGetValue(name, out var decl))
                throw new ParameterException($"{notebook.SourceName}: unknown parameter '{name}'; the parameters cell declares {(declared.Count == 0 ? "nothing" : string.Join(", ", declared.Keys))}");
            lines.Add($"{decl.TypeName} {name} = {Literal(decl, raw, notebook.SourceName)};");
        }
        var existing = notebook.Cells.FindIndex(c => c.HasTag(InjectedTag));
        if (existing >= 0) notebook.Cells.RemoveAt(existing);
        var at = notebook.Cells.IndexOf(parametersCell) + 1;
        notebook.InsertCodeCell(at, string.Join("\n", lines), InjectedTag);
    }

    public static string Literal(Declaration decl, string raw, string sourceName = "")
    {
        var inv = CultureInfo.InvariantCulture;
        string Fail(string what) => throw new ParameterException($"{sourceName}: parameter '{decl.Name}' is {what}; '{raw}' is not one");
        return decl.TypeName switch
        {
            "string" or "String" or "System.String" => SymbolDisplay.FormatLiteral(raw, quote: true),
            "bool" or "Boolean" => bool.TryParse(raw, out var b) ? (b ? "true" : "false") : Fail("a bool (true or false)"),
            "int" or "Int32" => int.TryParse(raw, NumberStyles.Integer, inv, out var i) ? i.ToString(inv) : Fail("an int"),
            "long" or "Int64" => long.TryParse(raw, NumberStyles.Integer, inv, out var l) ? l.ToString(inv) + "L" : Fail("a long"),
            "double" or "Double" => double.TryParse(raw, NumberStyles.Float, inv, out var d) ? d.ToString("R", inv) + "d" : Fail("a double"),
            "float" or "Single" => float.TryParse(raw, NumberStyles.Float, inv, out var f) ? f.ToString("R", inv) + "f" : Fail("a float"),
            "decimal" or "Decimal" => decimal.TryParse(raw, NumberStyles.Float, inv, out var m) ? m.ToString(inv) + "m" : Fail("a decimal"),
            _ => throw new ParameterException($"{sourceName}: parameter '{decl.Name}' has type '{decl.TypeName}'; cvnb can set string, bool, int, long, float, double and decimal parameters"),
        };
    }

    private static string? InferType(ExpressionSyntax? value) => value switch
    {
        PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.UnaryMinusExpression } p => InferType(p.Operand),
        LiteralExpressionSyntax lit => lit.Token.Value switch
        {
            string => "string",
            bool => "bool",
            int => "int",
            long => "long",
            double => "double",
            float => "float",
            decimal => "decimal",
            _ => null,
        },
        _ => null,
    };
}
