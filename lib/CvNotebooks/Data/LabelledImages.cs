using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Data;

/// A labelled image set held as tensors: Images (N,C,H,W) float32 in [0,1], Labels (N) int64 class indices.
/// Owns its tensors: dispose it (or keep it for the whole notebook).
public sealed class LabelledImages : IDisposable
{
    public string Name { get; }
    public Tensor Images { get; }
    public Tensor Labels { get; }
    public IReadOnlyList<string> ClassNames { get; }

    public LabelledImages(string name, Tensor images, Tensor labels, IReadOnlyList<string> classNames)
    {
        if (images.dim() != 4) throw new ArgumentException($"images must be (N,C,H,W); got {Guard.Shape(images)}", nameof(images));
        if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"labels must be (N) with N = {images.shape[0]}; got {Guard.Shape(labels)}", nameof(labels));
        Name = name;
        Images = images;
        Labels = labels;
        ClassNames = classNames;
    }

    public int Count => (int)Images.shape[0];

    /// Samples per class, in class order.
    public long[] CountPerClass()
    {
        using var scope = NewDisposeScope();
        return bincount(Labels, minlength: ClassNames.Count).data<long>().ToArray();
    }

    /// (images, labels) batches; with shuffle, a new random order each call from the generator seed.
    /// The batch tensors are views or gathered copies: dispose them in the loop or inside a dispose scope.
    public IEnumerable<(Tensor Images, Tensor Labels)> Batches(int batchSize, bool shuffle = false, int seed = 0, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = shuffle ? Shuffled(Count, seed) : null;
        for (var start = 0; start < Count; start += batchSize)
        {
            var length = Math.Min(batchSize, Count - start);
            Tensor x, y;
            if (order is null)
            {
                x = Images.narrow(0, start, length);
                y = Labels.narrow(0, start, length);
            }
            else
            {
                using var idx = tensor(order.AsSpan(start, length).ToArray(), ScalarType.Int64);
                x = Images.index_select(0, idx);
                y = Labels.index_select(0, idx);
            }
            if (device is not null && device.type != DeviceType.CPU)
            {
                var (dx, dy) = (x.to(device), y.to(device));
                x.Dispose();
                y.Dispose();
                (x, y) = (dx, dy);
            }
            yield return (x, y);
        }
    }

    /// Splits into two sets (e.g. train and test): the first takes `fraction` of the samples, chosen at random with the seed.
    public (LabelledImages First, LabelledImages Second) Split(double fraction, int seed = 0)
    {
        if (fraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "fraction must be in (0,1)");
        var order = Shuffled(Count, seed);
        var cut = (int)Math.Round(Count * fraction);
        return (Subset(order[..cut], $"{Name}[0:{cut}]"), Subset(order[cut..], $"{Name}[{cut}:]"));
    }

    /// The samples at these indices, as a new set owning its tensors.
    public LabelledImages Subset(long[] indices, string? name = null)
    {
        using var idx = tensor(indices, ScalarType.Int64);
        return new LabelledImages(name ?? Name, Images.index_select(0, idx), Labels.index_select(0, idx), ClassNames);
    }

    /// A random permutation of 0..n-1 from a seed (the same on every machine).
    public static long[] Shuffled(int n, int seed)
    {
        var order = new long[n];
        for (var i = 0; i < n; i++) order[i] = i;
        new Random(seed).Shuffle(order);
        return order;
    }

    public override string ToString() =>
        $"{Name}: {Count} images {Guard.Shape(Images)} in {ClassNames.Count} classes";

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
