using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Formatting;

namespace CvNotebooks.Charts;

/// Draws Plotly.NET's GenericChart offline when a notebook uses Plotly.NET itself (#r "nuget: Plotly.NET").
///
/// This library does not reference Plotly.NET (see Charts for why), so the bridge works by reflection: when an
/// assembly named Plotly.NET is loaded into the kernel, a text/html formatter is registered for its
/// Plotly.NET.GenericChart type. It calls GenericChart.toChartHTML (a div and a script calling Plotly.newPlot),
/// removes any script element that would load plotly.js from a CDN, and puts plotly.js in front of it the same
/// way PlotlyChart does (PlotlyJs: inline once per kernel session, taken from the Plotly.NET assembly itself).
/// Without the bridge the kernel shows a GenericChart as a tree of its F# properties, not as a chart.
///
/// FSharp.Core: Plotly.NET 6.0.0 is compiled against FSharp.Core 10.1 while the kernel process already has
/// FSharp.Core 10.0 (the C# kernel's package manager is F#), and .NET refuses to bind a request for a higher
/// version to the loaded lower one: "Could not load file or assembly 'FSharp.Core, Version=10.1.0.0'". The
/// bridge adds one AssemblyLoadContext.Default.Resolving handler that answers a failed FSharp.Core request
/// with the FSharp.Core already loaded. Resolving runs only after normal binding has failed, so it changes
/// nothing that worked before; it lets Plotly.NET run on the kernel's FSharp.Core (seen working with cvnb).
public static class PlotlyNetBridge
{
    private static int _hooked;
    private static readonly HashSet<Assembly> Registered = [];

    /// Installs the assembly-load hook (the module initializer calls it; calling again does nothing).
    public static void Register()
    {
        if (Interlocked.Exchange(ref _hooked, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += ResolveFSharpCore;
        AppDomain.CurrentDomain.AssemblyLoad += (_, e) => TryRegister(e.LoadedAssembly);
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies()) TryRegister(assembly);
    }

    /// True once a formatter for Plotly.NET's GenericChart is in place.
    public static bool IsActive { get; private set; }

    private static Assembly? ResolveFSharpCore(AssemblyLoadContext context, AssemblyName name)
    {
        if (name.Name != "FSharp.Core") return null;
        return AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name == "FSharp.Core")
            .OrderByDescending(a => a.GetName().Version)
            .FirstOrDefault();
    }

    private static void TryRegister(Assembly assembly)
    {
        try
        {
            if (assembly.IsDynamic || assembly.GetName().Name != "Plotly.NET") return;
            lock (Registered)
            {
                if (!Registered.Add(assembly)) return;
            }
            var chartType = assembly.GetType("Plotly.NET.GenericChart");
            var toChartHtml = chartType?.GetMethod("toChartHTML", BindingFlags.Public | BindingFlags.Static, [chartType]);
            if (chartType is null || toChartHtml is null) return;
            Formatter.Register(chartType, (chart, context) =>
            {
                context.Writer.Write(ToHtml(chart, toChartHtml, assembly));
                return true;
            }, HtmlFormatter.MimeType);
            IsActive = true;
        }
        catch (Exception e) when (e is TypeLoadException or FileNotFoundException or FileLoadException or ReflectionTypeLoadException or AmbiguousMatchException)
        {
            // A Plotly.NET we cannot read: leave the kernel's default display.
        }
    }

    private static string ToHtml(object chart, MethodInfo toChartHtml, Assembly plotlyNet)
    {
        string html;
        try
        {
            html = (string)toChartHtml.Invoke(null, [chart])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            return $"<pre style=\"color:#a00\">Plotly.NET could not write this chart: {System.Net.WebUtility.HtmlEncode(e.InnerException.Message)}</pre>";
        }
        html = CdnScript.Replace(html, "");
        html = RenderCall.Replace(html, m =>
            // Draw once window.Plotly exists (the script carrying plotly.js may come later in the page).
            $"(function (f) {{ var n = 0; (function go() {{ if (window.Plotly) f(); else if (n++ < 100) setTimeout(go, 100); }})(); }})({m.Groups[1].Value});");
        var script = PlotlyJs.ScriptTagForNextChart(() => PlotlyJs.FromAssembly(plotlyNet) ?? PlotlyJs.Find());
        return script + html;
    }

    private static readonly Regex CdnScript = new(
        @"<script\b[^>]*\bsrc\s*=\s*[""'][^""']*(?:cdn\.plot\.ly|plotly[^""']*\.js)[^""']*[""'][^>]*>\s*</script\s*>",
        RegexOptions.IgnoreCase | RegexOptions.Compiled);

    private static readonly Regex RenderCall = new(@"(renderPlotly_[0-9A-Za-z_]+)\(\);", RegexOptions.Compiled);
}
