using CsCheck;
using CvNotebooks.Interop;
using OpenCvSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
// Inside namespace CvNotebooks.Tests the simple name Stereo means the namespace CvNotebooks.Stereo.
using StereoOps = CvNotebooks.Stereo.Stereo;

namespace CvNotebooks.Tests;

/// Stereo on Middlebury's Aloe pair from OpenCV's sample data (aloeL.jpg, aloeR.jpg, 1282x1110) with its ground
/// truth aloeGT.png (disparity in pixels at full size, 0 = unknown), downscaled by 4 (INTER_AREA for the images,
/// nearest for the ground truth, disparities divided by 4) to keep the tests fast.
/// Measured against Cv2.StereoBM with the same parameters (64 disparities; blocks 9, 15, 21): the same pixels are
/// valid (100%), and every disparity valid in both lies within 1/16 px of OpenCV's (OpenCV rounds to 1/16 px, we
/// keep the float). Bad pixels (more than 2 px from the ground truth, over pixels valid in the result and known in
/// the ground truth): ours 8.9% / 8.3% / 9.0% for blocks 9 / 15 / 21, OpenCV the same to 0.1%; at half size
/// (128 disparities) 4.8% / 4.6% for blocks 15 / 21 (OpenCV 4.8% / 4.5%).
public class StereoTests
{
    private const int Factor = 4;

    /// Left, right (1,1,H,W) and the ground truth (1,1,H,W) in pixels at this size, 0 where unknown, plus the 8-bit
    /// images for OpenCV.
    private static (Mat Left, Mat Right, Tensor Truth) Aloe()
    {
        using var l = TestImages.Read("aloeL.jpg", ImreadModes.Grayscale);
        using var r = TestImages.Read("aloeR.jpg", ImreadModes.Grayscale);
        using var gt = TestImages.Read("aloeGT.png", ImreadModes.Unchanged);
        var size = new OpenCvSharp.Size(l.Cols / Factor, l.Rows / Factor);
        var left = new Mat();
        var right = new Mat();
        Cv2.Resize(l, left, size, 0, 0, InterpolationFlags.Area);
        Cv2.Resize(r, right, size, 0, 0, InterpolationFlags.Area);
        using var truth = new Mat();
        Cv2.Resize(gt, truth, size, 0, 0, InterpolationFlags.Nearest);
        return (left, right, TensorMat.ToTensor(truth).mul(255f / Factor));
    }

    public static TheoryData<string, int> BlockSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in new[] { "cpu", "cuda" })
            foreach (var block in new[] { 9, 15, 21 })
                data.Add(device, block);
        return data;
    }

    [SkippableTheory, MemberData(nameof(BlockSizes)), Trait("Category", "Reference")]
    public void BlockMatching_agrees_with_StereoBM_and_the_ground_truth(string deviceName, int blockSize)
    {
        var device = TestDevices.Get(deviceName);
        var (left, right, truth) = Aloe();
        using var l8 = left;
        using var r8 = right;
        using var scope = NewDisposeScope();
        const int disparities = 64;

        using var bm = StereoBM.Create(disparities, blockSize);
        using var disp16 = new Mat();
        bm.Compute(l8, r8, disp16);
        using var dispF = new Mat();
        disp16.ConvertTo(dispF, MatType.CV_32F, 1 / 16.0);
        var cv = TensorMat.ToTensor(dispF);

        var ours = StereoOps.BlockMatching(TensorMat.ToTensor(l8, device: device), TensorMat.ToTensor(r8, device: device), disparities, blockSize);
        Assert.Equal(new long[] { 1, 1, l8.Rows, l8.Cols }, ours.shape);
        Assert.Equal(device.type, ours.device.type);
        ours = ours.cpu();

        var validOurs = ours.ge(0);
        var validCv = cv.ge(0);
        var sameValidity = validOurs.eq(validCv).to(ScalarType.Float32).mean().item<float>();
        Assert.True(sameValidity >= 0.995, $"valid in one but not the other: {1 - sameValidity:P2} of the pixels");
        var both = validOurs.logical_and(validCv);
        var bothCount = both.sum().item<long>();
        Assert.True(bothCount > ours.numel() / 3, $"only {bothCount} pixels valid in both");
        var diff = ours.sub(cv).abs();
        var withinOne = diff.le(1).logical_and(both).sum().item<long>() / (double)bothCount;
        var withinSixteenth = diff.le(1 / 16f + 1e-4f).logical_and(both).sum().item<long>() / (double)bothCount;
        Assert.True(withinOne >= 0.995, $"{withinOne:P2} of the disparities lie within 1 px of OpenCV's");
        Assert.True(withinSixteenth >= 0.99, $"{withinSixteenth:P2} of the disparities lie within 1/16 px of OpenCV's");

        var oursBad = BadPixelRate(ours, truth);
        var cvBad = BadPixelRate(cv, truth);
        Assert.True(oursBad <= 0.12, $"bad-pixel rate at 2 px {oursBad:P1} (OpenCV {cvBad:P1})");
        Assert.True(Math.Abs(oursBad - cvBad) <= 0.01, $"bad-pixel rate at 2 px {oursBad:P1} against OpenCV's {cvBad:P1}");
    }

    /// Fraction of pixels, among those with a disparity and a known ground truth, more than 2 px off.
    private static double BadPixelRate(Tensor disparity, Tensor truth)
    {
        using var scope = NewDisposeScope();
        var counted = disparity.ge(0).logical_and(truth.gt(0));
        var bad = disparity.sub(truth).abs().gt(2).logical_and(counted);
        return bad.sum().item<long>() / (double)counted.sum().item<long>();
    }

    /// A random texture seen by a camera pair with a constant disparity d (right = left shifted by d): block
    /// matching finds d exactly at every valid pixel without sub-pixel refinement, and within half a pixel with it.
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void BlockMatching_finds_a_constant_shift_exactly(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        Gen.Select(Gen.Int[0, 31], Gen.Int[0, 10000], Gen.Int[2, 5].Select(k => 2 * k + 1)).Sample((shift, seed, block) =>
        {
            using var scope = NewDisposeScope();
            var texture = rand(new long[] { 1, 1, 60, 140 }, generator: new Generator((ulong)seed));
            var left = texture.narrow(3, 0, 100).to(device);
            var right = texture.narrow(3, shift, 100).to(device);
            var exact = StereoOps.BlockMatching(left, right, numDisparities: 32, blockSize: block, subpixel: false);
            var valid = exact.ge(0);
            Assert.True(valid.to(ScalarType.Float32).mean().item<float>() > 0.3, "too few pixels matched");
            Assert.True(exact.masked_select(valid).eq(shift).all().item<bool>(), $"shift {shift}, block {block}: not every disparity is {shift}");
            var refined = StereoOps.BlockMatching(left, right, numDisparities: 32, blockSize: block);
            Assert.True(refined.masked_select(valid).sub(shift).abs().le(0.5f).all().item<bool>());
        }, iter: 12, threads: 1);
    }

    /// Each pair of a batch is matched on its own: a batch of two shifts gives each shift.
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void BlockMatching_matches_each_pair_of_a_batch(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var texture = rand(new long[] { 2, 1, 50, 120 }, generator: new Generator(5)).to(device);
        var left = texture.narrow(3, 0, 90);
        var right = cat([texture[0].unsqueeze(0).narrow(3, 4, 90), texture[1].unsqueeze(0).narrow(3, 13, 90)], 0);
        var both = StereoOps.BlockMatching(left, right, 16, 7, subpixel: false);
        var first = StereoOps.BlockMatching(left[0].unsqueeze(0), right[0].unsqueeze(0), 16, 7, subpixel: false);
        Assert.True(both[0].unsqueeze(0).eq(first).all().item<bool>());
        Assert.True(both[0].masked_select(both[0].ge(0)).eq(4).all().item<bool>());
        Assert.True(both[1].masked_select(both[1].ge(0)).eq(13).all().item<bool>());
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Uniqueness_and_texture_tests_only_remove_pixels(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var (left, right, _) = Aloe();
        using var l8 = left;
        using var r8 = right;
        using var scope = NewDisposeScope();
        var l = TensorMat.ToTensor(l8, device: device);
        var r = TensorMat.ToTensor(r8, device: device);
        var strict = StereoOps.BlockMatching(l, r, 64, 15);
        var loose = StereoOps.BlockMatching(l, r, 64, 15, uniquenessRatio: 0, textureThreshold: 0);
        var kept = strict.ge(0);
        Assert.True(loose.ge(0).sum().item<long>() > kept.sum().item<long>());
        Assert.True(loose.masked_select(kept).eq(strict.masked_select(kept)).all().item<bool>());
        // Raw intensities (no pre-filter) still match most of the scene.
        var raw = StereoOps.BlockMatching(l, r, 64, 15, preFilterCap: 0);
        Assert.True(raw.ge(0).to(ScalarType.Float32).mean().item<float>() > 0.3);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void DisparityToDepth_is_f_times_B_over_d(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var disparity = tensor(new[] { 10f, 20f, 0f, -1f, 2.5f, 50f }, [1, 1, 2, 3], device: device);
        var depth = StereoOps.DisparityToDepth(disparity, focalPx: 500, baselineM: 0.1).cpu();
        float[] expected = [5f, 2.5f, 0f, 0f, 20f, 1f];
        var got = depth.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], got[i], 5);
    }

    /// A tilted plane n . X = c seen by a pinhole camera: its depth at pixel (u, v) is c / (n . ray(u, v)) with
    /// ray = ((u - cx) / fx, (v - cy) / fy, 1). Back-projecting that depth map gives points on the plane.
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void BackProject_puts_a_synthetic_plane_back_on_its_plane(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        const int h = 48, w = 64;
        const double fx = 70, fy = 65, cx = 31.5, cy = 23.5;
        double[] n = [0.2, -0.3, 0.93];
        const double c = 2.0;
        var depth = new float[h * w];
        for (var v = 0; v < h; v++)
            for (var u = 0; u < w; u++)
                depth[v * w + u] = (float)(c / (n[0] * (u - cx) / fx + n[1] * (v - cy) / fy + n[2]));
        var points = StereoOps.BackProject(tensor(depth, [1, 1, h, w], device: device), fx, fy, cx, cy);
        Assert.Equal(new long[] { 1, h * w, 3 }, points.shape);
        var p = points[0].cpu();
        var planeError = p.matmul(tensor(n, [3, 1]).to(ScalarType.Float32)).sub((float)c).abs().max().item<float>();
        Assert.True(planeError < 1e-4, $"points leave the plane by {planeError}");
        // Point i is pixel (i % W, i / W): pixel (u, v) = (10, 7) back-projects along its own ray.
        var q = p[7 * w + 10].data<float>().ToArray();
        Assert.Equal((10 - cx) / fx * q[2], q[0], 4);
        Assert.Equal((7 - cy) / fy * q[2], q[1], 4);
        Assert.Equal(depth[7 * w + 10], q[2], 5);

        // Colours line up with the points.
        var image = rand(new long[] { 1, 3, h, w }, device: device);
        var colours = StereoOps.PointColors(image);
        Assert.Equal(new long[] { 1, h * w, 3 }, colours.shape);
        Assert.True(colours[0, 7 * w + 10].eq(image[0, TensorIndex.Colon, 7, 10]).all().item<bool>());
    }

    /// A point cloud written as PLY and read back: the same points (floats round-trip exactly), colours to 8 bits,
    /// invalid points (no depth, NaN) left out, no temporary file left beside it, and an existing file replaced.
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void WritePly_round_trips_through_ReadPly(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var folder = Directory.CreateTempSubdirectory("cvnb-ply-");
        try
        {
            using var scope = NewDisposeScope();
            var path = Path.Combine(folder.FullName, "cloud.ply");
            File.WriteAllText(path, "old contents");
            var points = rand(new long[] { 1, 500, 3 }, device: device).mul(4).add(0.1f);
            points[0, 3, 2] = 0f;         // no depth
            points[0, 7, 0] = float.NaN;  // broken
            var colours = rand(new long[] { 1, 500, 3 }, device: device);
            StereoOps.WritePly(path, points, colours);
            Assert.Equal(["cloud.ply"], Directory.GetFiles(folder.FullName).Select(f => Path.GetFileName(f)).ToArray());
            var header = File.ReadLines(path).Take(4).ToArray();
            Assert.Equal("ply", header[0]);
            Assert.Equal("format ascii 1.0", header[1]);
            Assert.Contains("element vertex 498", File.ReadLines(path).Take(12));

            var (readPoints, readColours) = StereoOps.ReadPly(path);
            Assert.NotNull(readColours);
            var keep = tensor(Enumerable.Range(0, 500).Where(i => i is not 3 and not 7).Select(i => (long)i).ToArray());
            var expectedPoints = points[0].cpu().index_select(0, keep);
            var expectedColours = colours[0].cpu().index_select(0, keep);
            Assert.True(readPoints.eq(expectedPoints).all().item<bool>(), "points changed on the way through the file");
            Assert.True(readColours!.sub(expectedColours).abs().max().item<float>() <= 0.5f / 255 + 1e-6f);

            // Without colours, and without skipping: every point is written.
            StereoOps.WritePly(path, points[0], skipInvalid: false);
            var (all, none) = StereoOps.ReadPly(path);
            Assert.Null(none);
            Assert.Equal(500, all.shape[0]);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_a_message_naming_them()
    {
        using var scope = NewDisposeScope();
        var gray = rand(1, 1, 40, 80);
        var e = Assert.Throws<ArgumentException>(() => StereoOps.BlockMatching(rand(1, 3, 40, 80), gray));
        Assert.Contains("1 channel", e.Message);
        Assert.Equal("left", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => StereoOps.BlockMatching(gray, rand(1, 1, 40, 81)));
        Assert.Contains("same shape", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => StereoOps.BlockMatching(gray, gray, 16, 8));
        Assert.Equal("blockSize", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => StereoOps.BlockMatching(gray, gray, 80, 5));
        Assert.Equal("numDisparities", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => StereoOps.BlockMatching(gray, gray, 16, 5, preFilterCap: 64));
        Assert.Equal("preFilterCap", r.ParamName);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => StereoOps.DisparityToDepth(gray, 0, 0.1));
        Assert.Equal("focalPx", r.ParamName);
        e = Assert.Throws<ArgumentException>(() => StereoOps.WritePly(Path.Combine(Path.GetTempPath(), "never.ply"), rand(2, 10, 3)));
        Assert.Contains("one cloud at a time", e.Message);
        Assert.Throws<FileNotFoundException>(() => StereoOps.ReadPly(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.ply")));
    }
}
