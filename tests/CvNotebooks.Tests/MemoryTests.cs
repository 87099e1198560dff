using System.Diagnostics;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CvNotebooks.Tests;

/// Memory tests measure the whole process, so they run alone: xunit runs this collection after the parallel
/// ones, with nothing else allocating tensors at the same time.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection
{
    public const string Name = "Memory (runs alone)";
}

/// The promise of DESIGN.md's disposal rule: a loop whose tensors live in torch.NewDisposeScope() does not grow
/// native memory, however long it runs; without the scope, tensors are freed only when the GC finalizes them.
///
/// Two measures: Tensor.TotalCount (TorchSharp's count of live native tensor handles: exact, and independent of
/// allocator caching) and the process's resident set size from /proc/self/statm (what the machine sees; noisy,
/// so the bound is generous). The kernel under test is the notebooks' most common first step: a Mat read by
/// OpenCV becomes a tensor (TensorMat.ToTensor), then a few ops (gray, blur-like mean, normalise, reduce).
///
/// The tests run libtorch on one thread: on a busy 2-core machine its OpenMP workers spin against other
/// processes and a 0.5 ms call takes 50 ms (measured here), which would make the run time depend on the load.
/// Memory behaviour does not depend on the thread count.
[Collection(MemoryCollection.Name)]
public class MemoryTests : IDisposable
{
    private const long MaxRssGrowthBytes = 20L * 1024 * 1024;
    private readonly ITestOutputHelper output;
    private readonly int threads;

    public MemoryTests(ITestOutputHelper output)
    {
        this.output = output;
        threads = get_num_threads();
        set_num_threads(1);
    }

    public void Dispose() => set_num_threads(threads);

    private static long ResidentBytes()
    {
        // statm: size resident shared text lib data dt, in pages.
        var fields = File.ReadAllText("/proc/self/statm").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    private static void Collect()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    /// One call of the kernel: 1 tensor from the Mat and 7 from ops, none disposed by hand.
    private static float Kernel(Mat image)
    {
        var t = TensorMat.ToTensor(image);                                        // (1,3,H,W) float
        var gray = t.mul(tensor(new[] { 0.299f, 0.587f, 0.114f }).reshape(1, 3, 1, 1)).sum(1, keepdim: true);
        var smooth = nn.functional.avg_pool2d(gray, 3, 1, 1);
        var normalised = smooth.sub(smooth.mean()).div(smooth.std().add(1e-6f));
        return normalised.abs().max().item<float>();
    }

    [Fact]
    public void A_thousand_calls_in_a_dispose_scope_do_not_grow_native_memory()
    {
        if (!File.Exists("/proc/self/statm")) return;                             // Linux only (as are this project's machines)
        using var photo = TestImages.Read("fruits.jpg");
        using var image = new Mat(photo, new Rect(0, 0, 128, 128)).Clone();       // 128x128: ~200 KB per float tensor

        for (var i = 0; i < 100; i++)                                             // warm-up: allocator pools, JIT, thread pools
        {
            using var scope = NewDisposeScope();
            Kernel(image);
        }
        Collect();
        var tensorsBefore = Tensor.TotalCount;
        var rssBefore = ResidentBytes();
        var watch = Stopwatch.StartNew();

        for (var i = 0; i < 1000; i++)
        {
            using var scope = NewDisposeScope();
            Kernel(image);
        }

        watch.Stop();
        var tensorsAfter = Tensor.TotalCount;                                     // before any GC: the scope alone freed them
        Collect();
        var rssAfter = ResidentBytes();
        var growth = rssAfter - rssBefore;
        output.WriteLine($"1000 calls in {watch.Elapsed.TotalSeconds:F2} s; live tensors {tensorsBefore} -> {tensorsAfter}; RSS {rssBefore / 1048576.0:F1} MB -> {rssAfter / 1048576.0:F1} MB ({growth / 1048576.0:+0.0;-0.0} MB)");

        Assert.True(tensorsAfter <= tensorsBefore, $"every tensor made in the loop is disposed by its scope: {tensorsAfter - tensorsBefore} still alive");
        Assert.True(growth < MaxRssGrowthBytes, $"RSS grew by {growth / 1048576.0:F1} MB over 1000 calls (bound {MaxRssGrowthBytes / 1048576} MB); without the scope it would be about 1.5 GB");
    }

    [Fact]
    public void Without_a_scope_tensors_live_until_the_GC_finalizes_them()
    {
        using var photo = TestImages.Read("fruits.jpg");
        using var image = new Mat(photo, new Rect(0, 0, 64, 64)).Clone();
        Collect();
        var before = Tensor.TotalCount;

        for (var i = 0; i < 200; i++) Kernel(image);                              // no scope: nothing is disposed

        var alive = Tensor.TotalCount - before;
        Collect();                                                                // finalizers release the native tensors
        var afterGc = Tensor.TotalCount - before;
        output.WriteLine($"200 calls without a scope: {alive} tensors alive before GC, {afterGc} after");

        // Each call makes 8+ tensors; most are still alive until a GC happens to run (a gen-0 GC may have freed
        // a few: managed wrappers are small, so the GC does not feel the native memory behind them).
        Assert.True(alive >= 200 * 4, $"tensors made without a scope stay alive until the GC runs; only {alive} were");
        Assert.True(afterGc <= alive / 10, $"finalizers free them eventually; {afterGc} still alive after a full GC");
    }
}
