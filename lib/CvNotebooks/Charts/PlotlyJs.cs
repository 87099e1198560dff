using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;

namespace CvNotebooks.Charts;

/// How charts carry plotly.js.
public enum PlotlyJsInclusion
{
    /// The first chart of the kernel session carries plotly.js inline; later charts use window.Plotly (default).
    OncePerSession,
    /// Every chart carries plotly.js inline: each output stands alone, at about 3.6 MB per chart.
    EveryChart,
    /// No chart carries plotly.js: the page must load it (cvnb's HTML export loads one local copy in the head).
    Never,
}

/// plotly.js for charts that must render offline: found locally, inlined into chart outputs, never a CDN.
///
/// Where the script comes from, first found wins:
/// 1. PlotlyJs.Path, or the environment variable CVNB_PLOTLY_JS: a plotly.min.js, or a Plotly.NET.dll;
/// 2. a Plotly.NET assembly already loaded in the kernel (it embeds plotly.min.js as a resource);
/// 3. Plotly.NET in the NuGet global packages folder ($NUGET_PACKAGES or ~/.nuget/packages), read from the
///    dll's resources without loading it.
/// Plotly.NET 6.0.0 embeds plotly.js 2.28.0 (MIT licence, kept in the script's header).
///
/// The trade-off of inlining once per kernel session (Inclusion = OncePerSession, the default): plotly.js is
/// about 3.6 MB, so inlining it in every chart would make a notebook with ten charts weigh 36 MB. Instead the
/// first chart displayed in a kernel session carries a script tag with plotly.js and every later chart draws
/// with the window.Plotly that script defined. VS Code shows a notebook's outputs in one web view, so the later
/// charts find it; cvnb's executed notebook keeps the same outputs in the same order. Consequences:
/// - an executed notebook opened later in a browser or VS Code has plotly.js inside the first chart's output;
///   clearing or re-running only that cell leaves the later charts without it (they wait a few seconds for
///   window.Plotly, then say so in place of the chart). Re-run all, or call PlotlyJs.Reset() before a chart
///   to make it carry the script again;
/// - a chart output copied alone elsewhere does not draw unless it is the one carrying the script
///   (Inclusion = EveryChart makes every output self-contained, at 3.6 MB each);
/// - cvnb's HTML export loads one local plotly.js per page anyway, so there the inline copy is redundant; the
///   script tag carries data-cvnb-plotly="VERSION" so an exporter can recognise and drop it.
/// The inlined copy is wrapped so that an AMD loader (require.js, which some notebook front ends load) does not
/// capture it: it always defines window.Plotly. Its one built-in CDN address (the default topojsonURL, used only
/// by geographic maps) is replaced by the relative "topojson/": nothing is fetched from a CDN.
public static class PlotlyJs
{
    private static readonly object Gate = new();
    private static (string Script, string Version, string Origin)? _found;
    private static bool _searched;
    private static int _inlined;

    /// An explicit plotly.min.js or Plotly.NET.dll to take the script from (checked before anything else).
    public static string? Path { get; set; }

    public static PlotlyJsInclusion Inclusion { get; set; } = PlotlyJsInclusion.OncePerSession;

    /// The plotly.js text, its version and where it came from; null when none was found on this machine.
    public static (string Script, string Version, string Origin)? Find()
    {
        lock (Gate)
        {
            if (_searched && _found is not null) return _found;
            _found = Locate();
            _searched = true;
            return _found;
        }
    }

    /// Makes the next chart carry plotly.js again (e.g. after clearing the output of the chart that carried it).
    public static void Reset() => Interlocked.Exchange(ref _inlined, 0);

    /// True when the next chart would carry plotly.js under the current Inclusion.
    public static bool NextChartCarriesScript => Inclusion == PlotlyJsInclusion.EveryChart
        || (Inclusion == PlotlyJsInclusion.OncePerSession && Volatile.Read(ref _inlined) == 0);

    /// The script element that defines window.Plotly, or "" when this output should not carry it (already
    /// inlined this session, Inclusion, or no plotly.js found). Calling it counts as carrying the script.
    internal static string ScriptTagForNextChart(Func<(string Script, string Version, string Origin)?>? source = null)
    {
        if (Inclusion == PlotlyJsInclusion.Never) return "";
        if (Inclusion == PlotlyJsInclusion.OncePerSession && Volatile.Read(ref _inlined) == 1) return "";
        var found = (source ?? Find)();
        if (found is not { } js) return "";
        if (Inclusion == PlotlyJsInclusion.OncePerSession && Interlocked.Exchange(ref _inlined, 1) == 1) return "";
        return ScriptTag(js.Script, js.Version);
    }

    internal static string ScriptTag(string script, string version)
    {
        var sb = new StringBuilder(script.Length + 256);
        sb.Append("<script type=\"text/javascript\" data-cvnb-plotly=\"").Append(version).Append("\">")
          .Append("(function (define, module, exports) {\n")
          .Append(Sanitize(script))
          .Append("\n}).call(window);</script>");
        return sb.ToString();
    }

    /// No CDN address, and nothing that would close the script element early.
    internal static string Sanitize(string script) =>
        script.Replace("\"https://cdn.plot.ly/\"", "\"topojson/\"", StringComparison.Ordinal)
              .Replace("https://cdn.plot.ly/", "topojson/", StringComparison.Ordinal)
              .Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);

    private static (string, string, string)? Locate()
    {
        var explicitPath = Path ?? Environment.GetEnvironmentVariable("CVNB_PLOTLY_JS");
        if (!string.IsNullOrEmpty(explicitPath) && File.Exists(explicitPath))
        {
            var fromPath = explicitPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                ? FromDllFile(explicitPath)
                : (File.ReadAllText(explicitPath), VersionOf(File.ReadAllText(explicitPath), null), explicitPath);
            if (fromPath is not null) return fromPath;
        }
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            if (assembly.GetName().Name == "Plotly.NET" && FromAssembly(assembly) is { } loaded) return loaded;
        return FromNuGetCache();
    }

    /// plotly.js from a loaded Plotly.NET assembly's resources.
    internal static (string, string, string)? FromAssembly(Assembly assembly)
    {
        if (assembly.IsDynamic) return null;
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!ResourceName.IsMatch(name)) continue;
            using var stream = assembly.GetManifestResourceStream(name);
            if (stream is null) continue;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var script = reader.ReadToEnd();
            return (script, VersionOf(script, name), $"{assembly.GetName().Name} {assembly.GetName().Version} (loaded)");
        }
        return null;
    }

    private static (string, string, string)? FromNuGetCache()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(root))
            root = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var packageDir = System.IO.Path.Combine(root, "plotly.net");
        if (!Directory.Exists(packageDir)) return null;
        var versions = Directory.GetDirectories(packageDir)
            .Select(d => (Dir: d, Version: Version.TryParse(System.IO.Path.GetFileName(d).Split('-')[0], out var v) ? v : new Version(0, 0)))
            .OrderByDescending(x => x.Version);
        foreach (var (dir, _) in versions)
        {
            var libDir = System.IO.Path.Combine(dir, "lib");
            if (!Directory.Exists(libDir)) continue;
            foreach (var dll in Directory.EnumerateFiles(libDir, "Plotly.NET.dll", SearchOption.AllDirectories))
                if (FromDllFile(dll) is { } found) return found;
        }
        return null;
    }

    /// Reads the embedded plotly.js out of a Plotly.NET.dll with System.Reflection.Metadata: the assembly is
    /// not loaded, so its F# dependencies do not matter.
    internal static (string, string, string)? FromDllFile(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            using var pe = new PEReader(file);
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is null) return null;
            var metadata = pe.GetMetadataReader();
            var resources = pe.PEHeaders.CorHeader.ResourcesDirectory;
            foreach (var handle in metadata.ManifestResources)
            {
                var resource = metadata.GetManifestResource(handle);
                var name = metadata.GetString(resource.Name);
                if (!ResourceName.IsMatch(name) || !resource.Implementation.IsNil) continue;
                var reader = pe.GetSectionData(resources.RelativeVirtualAddress).GetReader();
                reader.Offset = checked((int)resource.Offset);
                var length = reader.ReadInt32();
                var script = Encoding.UTF8.GetString(reader.ReadBytes(length));
                return (script, VersionOf(script, name), path);
            }
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or UnauthorizedAccessException or InvalidOperationException)
        {
            return null;
        }
        return null;
    }

    private static readonly Regex ResourceName = new(@"plotly[-.]?(?:\d[\d.]*)?\.min\.js$", RegexOptions.IgnoreCase | RegexOptions.Compiled);
    private static readonly Regex HeaderVersion = new(@"plotly\.js v(\d+\.\d+\.\d+)", RegexOptions.Compiled);
    private static readonly Regex NameVersion = new(@"plotly-(\d+\.\d+\.\d+)\.min\.js", RegexOptions.Compiled);

    private static string VersionOf(string script, string? resourceName)
    {
        var header = HeaderVersion.Match(script.Length > 2000 ? script[..2000] : script);
        if (header.Success) return header.Groups[1].Value;
        var fromName = resourceName is null ? Match.Empty : NameVersion.Match(resourceName);
        return fromName.Success ? fromName.Groups[1].Value : "unknown";
    }
}
