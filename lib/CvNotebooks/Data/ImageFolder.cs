using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Scalar = OpenCvSharp.Scalar;
using Size = OpenCvSharp.Size;
using static TorchSharp.torch;

namespace CvNotebooks.Data;

/// Random image augmentations applied to one 8-bit BGR Mat at a time, with OpenCV (fast on the CPU),
/// before the image becomes a tensor. Each takes the random generator so a seed makes a run repeatable.
public abstract class Augmentation
{
    /// Returns a new Mat (the caller disposes it); never changes the input.
    public abstract Mat Apply(Mat image, Random random);

    /// Mirrors left-right with probability p.
    public static Augmentation HorizontalFlip(double p = 0.5) => new Lambda((m, r) =>
    {
        var o = new Mat();
        if (r.NextDouble() < p) Cv2.Flip(m, o, FlipMode.Y); else m.CopyTo(o);
        return o;
    });

    /// A random crop of size x size, after padding every side by `padding` (reflect-101), as in CIFAR training.
    public static Augmentation RandomCrop(int size, int padding = 0) => new Lambda((m, r) =>
    {
        using var padded = new Mat();
        Cv2.CopyMakeBorder(m, padded, padding, padding, padding, padding, BorderTypes.Reflect101);
        if (padded.Width < size || padded.Height < size)
            throw new ArgumentException($"RandomCrop({size}) needs an image of at least {size}x{size} after padding; got {padded.Width}x{padded.Height}: resize first");
        var x = r.Next(padded.Width - size + 1);
        var y = r.Next(padded.Height - size + 1);
        using var view = new Mat(padded, new Rect(x, y, size, size));
        return view.Clone();
    });

    /// Brightness, contrast and saturation each scaled by a random factor in [1-amount, 1+amount].
    public static Augmentation ColorJitter(double brightness = 0.2, double contrast = 0.2, double saturation = 0.2) => new Lambda((m, r) =>
    {
        double Factor(double a) => 1 + (r.NextDouble() * 2 - 1) * a;
        using var f = new Mat();
        m.ConvertTo(f, MatType.CV_32FC(m.Channels()));
        var b = Factor(brightness);
        Cv2.Multiply(f, Scalar.All(b), f);
        var c = Factor(contrast);
        var mean = Cv2.Mean(f);
        var gray = m.Channels() >= 3 ? (mean.Val0 * 0.114 + mean.Val1 * 0.587 + mean.Val2 * 0.299) : mean.Val0;
        Cv2.AddWeighted(f, c, f, 0, gray * (1 - c), f);
        if (m.Channels() == 3)
        {
            var s = Factor(saturation);
            using var g = new Mat();
            Cv2.CvtColor(f, g, ColorConversionCodes.BGR2GRAY);
            using var g3 = new Mat();
            Cv2.CvtColor(g, g3, ColorConversionCodes.GRAY2BGR);
            Cv2.AddWeighted(f, s, g3, 1 - s, 0, f);
        }
        var o = new Mat();
        f.ConvertTo(o, MatType.CV_8UC(m.Channels()));   // saturating cast clamps to 0..255
        return o;
    });

    /// Rotation about the centre by a random angle in [-degrees, degrees], same size, reflected borders.
    public static Augmentation Rotation(double degrees) => new Lambda((m, r) =>
    {
        var angle = (r.NextDouble() * 2 - 1) * degrees;
        using var rot = Cv2.GetRotationMatrix2D(new Point2f(m.Width / 2f, m.Height / 2f), angle, 1.0);
        var o = new Mat();
        Cv2.WarpAffine(m, o, rot, m.Size(), InterpolationFlags.Linear, BorderTypes.Reflect101);
        return o;
    });

    /// Resizes to width x height (not random; use it first so the batch has one size).
    public static Augmentation Resize(int width, int height) => new Lambda((m, _) =>
    {
        var o = new Mat();
        Cv2.Resize(m, o, new Size(width, height), 0, 0, width < m.Width ? InterpolationFlags.Area : InterpolationFlags.Linear);
        return o;
    });

    private sealed class Lambda(Func<Mat, Random, Mat> f) : Augmentation
    {
        public override Mat Apply(Mat image, Random random) => f(image, random);
    }
}

/// A labelled image folder: root/&lt;class&gt;/*.jpg|png|bmp. Classes are the sub-folder names in ordinal order.
/// Images are read lazily, per batch; every image of a batch must come out at one size (give a Resize or RandomCrop).
public sealed class ImageFolder
{
    private static readonly string[] s_extensions = [".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"];

    public string Root { get; }
    public IReadOnlyList<string> Classes { get; }
    /// Every image path with its class index, grouped by class, files in ordinal order.
    public IReadOnlyList<(string Path, int Label)> Samples { get; }
    /// Applied in order to each image (an 8-bit Mat as read) before it becomes a tensor.
    public IReadOnlyList<Augmentation> Transforms { get; }
    public bool Grayscale { get; }

    public ImageFolder(string root, IEnumerable<Augmentation>? transforms = null, bool grayscale = false)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"image folder {root} does not exist");
        Root = root;
        Classes = Directory.GetDirectories(root).Select(System.IO.Path.GetFileName).Select(n => n!).Order(StringComparer.Ordinal).ToList();
        if (Classes.Count == 0) throw new ArgumentException($"{root} has no class sub-folders (expected root/<class>/<image>)", nameof(root));
        Samples = Classes.SelectMany((c, i) => Directory.GetFiles(System.IO.Path.Combine(root, c))
                .Where(f => s_extensions.Contains(System.IO.Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal)
                .Select(f => (f, i)))
            .ToList();
        if (Samples.Count == 0) throw new ArgumentException($"{root} has class folders but no images ({string.Join(", ", s_extensions)})", nameof(root));
        Transforms = transforms?.ToList() ?? [];
        Grayscale = grayscale;
    }

    public int Count => Samples.Count;

    /// One image after the transforms, as a (1,C,H,W) float32 tensor in [0,1] (RGB, or 1 channel when Grayscale).
    public Tensor Load(int index, Random? random = null)
    {
        var (path, _) = Samples[index];
        var image = Cv2.ImRead(path, Grayscale ? ImreadModes.Grayscale : ImreadModes.Color);
        if (image.Empty())
        {
            image.Dispose();
            throw new InvalidDataException($"OpenCV could not decode {path}");
        }
        random ??= new Random(index);
        foreach (var t in Transforms)
        {
            var next = t.Apply(image, random);
            image.Dispose();
            image = next;
        }
        using (image) return TensorMat.ToTensor(image, ChannelOrder.Rgb);
    }

    /// (images (B,C,H,W) float32 in [0,1], labels (B) int64) batches. With shuffle, the order and every random
    /// transform follow the seed, so the same seed gives the same batches. Dispose each batch when done with it.
    public IEnumerable<(Tensor Images, Tensor Labels)> Batches(int batchSize, bool shuffle = false, int seed = 0, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = shuffle ? LabelledImages.Shuffled(Count, seed) : Enumerable.Range(0, Count).Select(i => (long)i).ToArray();
        var random = new Random(seed);
        for (var start = 0; start < Count; start += batchSize)
        {
            var idx = order.AsSpan(start, Math.Min(batchSize, Count - start)).ToArray().Select(i => (int)i).ToArray();
            Tensor images, labels;
            using (var scope = NewDisposeScope())
            {
                var parts = idx.Select(i => Load(i, random)).ToArray();
                var first = parts[0].shape;
                foreach (var (p, i) in parts.Zip(idx))
                    if (!p.shape.SequenceEqual(first))
                        throw new InvalidOperationException($"{Samples[i].Path} became {Guard.Shape(p)} but the batch started with ({string.Join(",", first)}): add Augmentation.Resize(w, h) or RandomCrop(size) to the transforms");
                images = cat(parts, 0);
                labels = tensor(idx.Select(i => (long)Samples[i].Label).ToArray(), ScalarType.Int64);
                if (device is not null) { images = images.to(device); labels = labels.to(device); }
                images.MoveToOuterDisposeScope();
                labels.MoveToOuterDisposeScope();
            }
            yield return (images, labels);
        }
    }
}
