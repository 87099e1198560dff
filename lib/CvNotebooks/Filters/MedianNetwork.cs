using System.Collections.Concurrent;
using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Filters;

/// One compare-exchange of a comparator network: wire A gets min(A, B) and wire B gets max(A, B). Min or Max is
/// false when that output is never read again, so only the needed half is computed.
internal readonly record struct Comparator(int A, int B, bool Min, bool Max);

/// An exact k x k median as a comparator network of element-wise min/max over shifted views, so it runs on any
/// device with no gather of k² copies. Two ideas keep it short:
/// 1. Columns first: every vertical run of k pixels is sorted once and shared by the k windows that contain it.
/// 2. Pruning: the window network is Batcher's odd-even merge sort on the k² values (wire c*k + r holds rank r of
///    column c), from which we drop every comparator that can never swap when the columns arrive sorted (checked
///    exhaustively on all 0/1 inputs with sorted columns, which by the 0-1 principle covers all real inputs) and
///    every comparator whose outputs never reach the middle wire.
/// For 5x5 that leaves 146 min/max per pixel plus 18 for the shared column sorts (Batcher's full sort of 25 values
/// is 140 compare-exchanges, 280 min/max); for 7x7, 450 plus 32. Networks are built once per size and cached
/// (the 0/1 check takes ~20 ms for 5x5 and ~0.25 s for 7x7 on first use).
internal sealed class MedianNetwork
{
    public required int K { get; init; }
    /// The vertical k-sorter, pruned to the ranks the window network reads.
    public required Comparator[] ColumnSteps { get; init; }
    /// The window network over the k*k wires; the median ends on wire k*k/2.
    public required Comparator[] WindowSteps { get; init; }
    /// Which column ranks the window network reads at all.
    public required bool[] RankUsed { get; init; }

    private static readonly ConcurrentDictionary<int, Lazy<MedianNetwork>> Cache = new();
    // ~256 KB per intermediate: each min/max then runs in cache, and no step allocates a large block (large
    // allocations are fresh pages from the OS on every call; measured 2-10x slower on a full-HD image).
    private const long BandElements = 1 << 16;

    /// The network for a k x k window (k = 5 or 7: the 0/1 check enumerates (k+1)^k column patterns).
    public static MedianNetwork For(int k) => Cache.GetOrAdd(k, size => new Lazy<MedianNetwork>(() => Build(size))).Value;

    /// Median of every k x k window of a padded (B,C,H+k-1,W+k-1) tensor, in bands of rows so each step's
    /// tensors stay small (cache-friendly on the CPU, bounded memory everywhere).
    public Tensor Apply(Tensor padded, long h, long w)
    {
        var k = K;
        var perRow = padded.shape[0] * padded.shape[1] * (w + k - 1);
        var band = Math.Clamp(BandElements / Math.Max(1, perRow), 1, h);
        var parts = new List<Tensor>();
        for (long y0 = 0; y0 < h; y0 += band)
        {
            var rows = Math.Min(band, h - y0);
            using var scope = NewDisposeScope();
            var ranks = new Tensor?[k];
            for (var r = 0; r < k; r++) ranks[r] = padded.narrow(2, y0 + r, rows);
            Run(ranks, ColumnSteps);
            var wires = new Tensor?[k * k];
            for (var c = 0; c < k; c++)
                for (var r = 0; r < k; r++)
                    if (RankUsed[r]) wires[c * k + r] = ranks[r]!.narrow(3, c, w);
            Run(wires, WindowSteps);
            parts.Add(wires[k * k / 2]!.MoveToOuterDisposeScope());
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 2);
    }

    /// Runs the comparators over the wires, disposing each intermediate as soon as it is overwritten or dead.
    private static void Run(Tensor?[] wires, Comparator[] steps)
    {
        foreach (var s in steps)
        {
            var a = wires[s.A]!;
            var b = wires[s.B]!;
            wires[s.A] = s.Min ? minimum(a, b) : null;
            wires[s.B] = s.Max ? maximum(a, b) : null;
            a.Dispose();
            b.Dispose();
        }
    }

    private static MedianNetwork Build(int k)
    {
        var n = k * k;
        var window = Batcher(n);

        // All 0/1 inputs whose columns are sorted: column c is t_c zeros then ones, t_c in 0..k.
        // Bit i of wire (c, r) is the value of rank r of column c in pattern i.
        var patterns = checked((int)Math.Pow(k + 1, k));
        var words = (patterns + 63) / 64;
        var bits = new ulong[n][];
        for (var i = 0; i < n; i++) bits[i] = new ulong[words];
        for (var p = 0; p < patterns; p++)
        {
            var rest = p;
            for (var c = 0; c < k; c++)
            {
                var zeros = rest % (k + 1);
                rest /= k + 1;
                for (var r = zeros; r < k; r++) bits[c * k + r][p >> 6] |= 1UL << (p & 63);
            }
        }
        var live = new List<(int A, int B)>();
        foreach (var (a, b) in window)
        {
            var x = bits[a];
            var y = bits[b];
            var swaps = false;
            for (var i = 0; i < words && !swaps; i++) swaps = (x[i] & ~y[i]) != 0;
            if (!swaps) continue; // never swaps on sorted columns: a no-op
            live.Add((a, b));
            for (var i = 0; i < words; i++) { var lo = x[i] & y[i]; var hi = x[i] | y[i]; x[i] = lo; y[i] = hi; }
        }
        var windowSteps = PruneTo(live, [n / 2], out var needed);
        var rankUsed = new bool[k];
        foreach (var wire in needed) rankUsed[wire % k] = true;
        var columnSteps = PruneTo(Batcher(k), Enumerable.Range(0, k).Where(r => rankUsed[r]), out _);
        return new MedianNetwork { K = k, ColumnSteps = columnSteps, WindowSteps = windowSteps, RankUsed = rankUsed };
    }

    /// Keeps the comparators whose outputs reach one of the given wires; `inputs` are the wires read at the start.
    private static Comparator[] PruneTo(IReadOnlyList<(int A, int B)> steps, IEnumerable<int> outputs, out HashSet<int> inputs)
    {
        var need = new HashSet<int>(outputs);
        var kept = new List<Comparator>();
        for (var i = steps.Count - 1; i >= 0; i--)
        {
            var (a, b) = steps[i];
            bool min = need.Contains(a), max = need.Contains(b);
            if (!min && !max) continue;
            kept.Add(new Comparator(a, b, min, max));
            need.Add(a);
            need.Add(b);
        }
        kept.Reverse();
        inputs = need;
        return kept.ToArray();
    }

    /// Batcher's odd-even merge sort for n wires: the network for the next power of two with the extra wires
    /// dropped (they would carry +infinity and never move).
    private static List<(int A, int B)> Batcher(int n)
    {
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)n);
        var steps = new List<(int, int)>();
        for (var p = 1; p < size; p *= 2)
            for (var k = p; k >= 1; k /= 2)
                for (var j = k % p; j < size - k; j += 2 * k)
                    for (var i = 0; i < Math.Min(k, size - j - k); i++)
                        if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n)
                            steps.Add((i + j, i + j + k));
        return steps;
    }
}
