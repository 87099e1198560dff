using System.Diagnostics;
using CsCheck;
using OpenCvSharp;
using OpenCvSharp.Dnn;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using B = CvNotebooks.Boxes.Boxes;

namespace CvNotebooks.Tests;

public class BoxesTests(ITestOutputHelper output)
{
    /// Random xyxy boxes: x, y in [0,200), width and height in [0.5,100).
    private static readonly Gen<float[]> GenBox =
        Gen.Select(Gen.Float[0, 200], Gen.Float[0, 200], Gen.Float[0.5f, 100], Gen.Float[0.5f, 100],
            (x, y, w, h) => new[] { x, y, x + w, y + h });

    /// Boxes around a few centres so that many overlap (NMS has work to do), with scores and class ids.
    private static readonly Gen<(float[][] Boxes, float[] Scores, long[] Classes)> GenDetections =
        Gen.Int[1, 60].SelectMany(n => Gen.Select(
            Gen.Select(Gen.Int[0, 3], Gen.Float[-15, 15], Gen.Float[-15, 15], Gen.Float[5, 40], Gen.Float[5, 40],
                (c, dx, dy, w, h) => new[] { 50 * c + dx, 40 + dy, 50 * c + dx + w, 40 + dy + h }).Array[n],
            Gen.Float[0, 1].Array[n],
            Gen.Long[0, 2].Array[n],
            (b, s, c) => (b, s, c)));

    private static Tensor ToTensor(float[][] boxes, Device device) =>
        tensor(boxes.SelectMany(b => b).ToArray(), [boxes.Length, 4], device: device);

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Iou_and_GIoU_match_hand_computed_values(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var a = ToTensor([[0, 0, 10, 10], [0, 0, 1, 1]], device);
        var b = ToTensor([[5, 5, 15, 15], [2, 2, 4, 4], [10, 0, 20, 10], [2, 0, 3, 1], [0, 0, 10, 10]], device);
        // By hand. Row a0 = [0,0,10,10]: overlap 5x5 = 25 of union 175; b1 inside (4/100); touching edge (0);
        // b3 inside (1/100); identical (1). Row a1 = [0,0,1,1]: disjoint from b0..b3, inside b4 (1/100).
        var expectedIou = new float[,] { { 25f / 175, 4f / 100, 0, 1f / 100, 1 }, { 0, 0, 0, 0, 1f / 100 } };
        // GIoU = IoU - (hull - union) / hull. a0,b0: hull 15x15 = 225. a0,b2: hull 200 = union. a1,b0: hull 225,
        // union 101. a1,b1: hull 16, union 5. a1,b2: hull 200, union 101. a1,b3: hull 3, union 2.
        var expectedGiou = new float[,]
        {
            { 25f / 175 - 50f / 225, 4f / 100, 0, 1f / 100, 1 },
            { -124f / 225, -11f / 16, -99f / 200, -1f / 3, 1f / 100 },
        };
        var iou = B.Iou(a, b);
        var giou = B.GeneralizedIou(a, b);
        Assert.Equal(device.type, iou.device.type);
        Assert.Equal(new long[] { 2, 5 }, iou.shape);
        iou = iou.cpu();
        giou = giou.cpu();
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 5; j++)
            {
                Assert.Equal(expectedIou[i, j], iou[i, j].item<float>(), 5);
                Assert.Equal(expectedGiou[i, j], giou[i, j].item<float>(), 5);
            }
    }

    [Fact]
    public void Degenerate_boxes_have_iou_zero_not_nan()
    {
        using var scope = NewDisposeScope();
        var p = ToTensor([[3, 3, 3, 3]], CPU);
        Assert.Equal(0f, B.Iou(p, p).item<float>());
        Assert.Equal(0f, B.GeneralizedIou(p, p).item<float>());
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Iou_is_symmetric_in_unit_range_and_one_on_itself_and_GIoU_is_below_it(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        Gen.Select(GenBox.Array[1, 20], GenBox.Array[1, 20]).Sample((aa, bb) =>
        {
            using var scope = NewDisposeScope();
            var a = ToTensor(aa, device);
            var b = ToTensor(bb, device);
            var ab = B.Iou(a, b);
            var ba = B.Iou(b, a);
            var g = B.GeneralizedIou(a, b);
            Assert.True(ab.allclose(ba.t(), rtol: 0, atol: 1e-6), "IoU(a,b) = IoU(b,a)^T");
            Assert.True(ab.min().item<float>() >= 0 && ab.max().item<float>() <= 1, "IoU in [0,1]");
            Assert.True(B.Iou(a, a).diagonal().allclose(ones(aa.Length, device: device), rtol: 0, atol: 1e-6), "IoU(a,a) = 1");
            Assert.True(g.min().item<float>() >= -1 - 1e-6 && g.max().item<float>() <= 1 + 1e-6, "GIoU in [-1,1]");
            Assert.True((g - ab).max().item<float>() <= 1e-6, "GIoU <= IoU");
        }, iter: 200);
    }

    [Trait("Category", "Reference")]
    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Nms_keeps_what_OpenCV_NMSBoxes_keeps_in_the_same_order(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var (boxes, scores) = ClusteredBoxes(1000, seed: 7);
        var rects = boxes.Select(b => new Rect2d(b[0], b[1], b[2] - b[0], b[3] - b[1])).ToArray();
        using var scope = NewDisposeScope();
        var tb = ToTensor(boxes, device);
        var ts = tensor(scores, device: device);
        foreach (var threshold in new[] { 0.3f, 0.5f, 0.7f })
        {
            // Score threshold 0 is below every score (OpenCV keeps score > threshold); we apply none.
            CvDnn.NMSBoxes(rects, scores, 0f, threshold, out var expected);
            var kept = B.Nms(tb, ts, threshold);
            Assert.Equal(device.type, kept.device.type);
            Assert.Equal(ScalarType.Int64, kept.dtype);
            var actual = kept.cpu().data<long>().ToArray();
            Assert.Equal(expected.Select(i => (long)i), actual);
            output.WriteLine($"threshold {threshold}: kept {actual.Length} of 1000, same as OpenCV");
        }
    }

    [Fact]
    public void Both_scan_paths_agree_greedy_on_cpu_and_mask_matrix()
    {
        GenDetections.Sample(d =>
        {
            using var scope = NewDisposeScope();
            var b = ToTensor(d.Boxes, CPU);
            var s = tensor(d.Scores);
            var c = tensor(d.Classes);
            foreach (var t in new[] { 0.2, 0.5 })
            {
                Assert.Equal(B.NmsCore(b, s, null, t, B.NmsPath.Greedy).data<long>().ToArray(),
                    B.NmsCore(b, s, null, t, B.NmsPath.MaskMatrix).data<long>().ToArray());
                Assert.Equal(B.NmsCore(b, s, c, t, B.NmsPath.Greedy).data<long>().ToArray(),
                    B.NmsCore(b, s, c, t, B.NmsPath.MaskMatrix).data<long>().ToArray());
            }
        }, iter: 200);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Nms_keeps_a_subset_by_descending_score_with_no_overlap_above_threshold_and_covers_the_rest(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        Gen.Select(GenDetections, Gen.Double[0.1, 0.9]).Sample((d, threshold) =>
        {
            using var scope = NewDisposeScope();
            var b = ToTensor(d.Boxes, device);
            var kept = B.Nms(b, tensor(d.Scores, device: device), threshold).cpu().data<long>().ToArray();
            var n = d.Boxes.Length;
            Assert.NotEmpty(kept);
            Assert.Equal(kept.Length, kept.Distinct().Count());
            Assert.All(kept, i => Assert.InRange(i, 0, n - 1));
            for (var k = 1; k < kept.Length; k++) Assert.True(d.Scores[kept[k - 1]] >= d.Scores[kept[k]], "descending score");
            var iou = B.Iou(b, b).cpu();
            // IoU and threshold meet in float32, as in torchvision and OpenCV: an IoU of exactly 3/7 in float equals
            // (float)(3/7) and is kept, though it is above the double 3/7.
            var t = (float)threshold;
            foreach (var i in kept)
                foreach (var j in kept)
                    if (i != j) Assert.True(iou[i, j].item<float>() <= t, $"kept {i} and {j} overlap above {threshold}");
            // Greedy completeness: every dropped box overlaps a kept box of higher (or equal, earlier) score.
            for (var j = 0; j < n; j++)
                if (!kept.Contains(j))
                    Assert.Contains(kept, i => iou[i, j].item<float>() > t && d.Scores[i] >= d.Scores[j]);
        }, iter: 100);
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void BatchedNms_never_suppresses_across_classes(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        Gen.Select(GenDetections, Gen.Double[0.1, 0.9]).Sample((d, threshold) =>
        {
            using var scope = NewDisposeScope();
            var b = ToTensor(d.Boxes, device);
            var s = tensor(d.Scores, device: device);
            var kept = B.BatchedNms(b, s, tensor(d.Classes, device: device), threshold).cpu().data<long>().ToArray();
            for (var k = 1; k < kept.Length; k++) Assert.True(d.Scores[kept[k - 1]] >= d.Scores[kept[k]], "descending score");
            // Per class, batched NMS keeps exactly what plain NMS keeps on that class alone.
            foreach (var cls in d.Classes.Distinct())
            {
                var members = Enumerable.Range(0, d.Classes.Length).Where(i => d.Classes[i] == cls).ToArray();
                var alone = B.Nms(ToTensor(members.Select(i => d.Boxes[i]).ToArray(), device),
                    tensor(members.Select(i => d.Scores[i]).ToArray(), device: device), threshold).cpu().data<long>().ToArray();
                Assert.Equal(alone.Select(i => (long)members[i]), kept.Where(i => d.Classes[i] == cls));
            }
        }, iter: 100);

        // The same box in three classes: all three survive.
        using var scope2 = NewDisposeScope();
        var same = ToTensor([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], device);
        var keptAll = B.BatchedNms(same, tensor(new[] { 0.9f, 0.8f, 0.7f }, device: device), tensor(new long[] { 0, 1, 2 }, device: device), 0.5);
        Assert.Equal(new long[] { 0, 1, 2 }, keptAll.cpu().data<long>().ToArray());
        Assert.Equal(new long[] { 0 }, B.Nms(same, tensor(new[] { 0.9f, 0.8f, 0.7f }, device: device), 0.5).cpu().data<long>().ToArray());
    }

    [SkippableTheory, MemberData(nameof(TestDevices.All), MemberType = typeof(TestDevices))]
    public void Conversions_round_trip_and_agree_on_area_and_clip(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var scope = NewDisposeScope();
        var b = ToTensor([[10, 20, 50, 80], [-5, -5, 5, 5], [630, 470, 700, 500]], device);
        Assert.Equal(new float[] { 10, 20, 40, 60 }, B.XyxyToXywh(b)[0].cpu().data<float>().ToArray());
        Assert.Equal(new float[] { 30, 50, 40, 60 }, B.XyxyToCxcywh(b)[0].cpu().data<float>().ToArray());
        Assert.True(B.XywhToXyxy(B.XyxyToXywh(b)).allclose(b, rtol: 0, atol: 0));
        Assert.True(B.CxcywhToXyxy(B.XyxyToCxcywh(b)).allclose(b, rtol: 0, atol: 1e-4));
        Assert.Equal(new float[] { 2400, 100, 2100 }, B.Area(b).cpu().data<float>().ToArray());
        Assert.Equal(new float[] { 10, 20, 50, 80, 0, 0, 5, 5, 630, 470, 640, 480 },
            B.Clip(b, 480, 640).cpu().data<float>().ToArray());
        Assert.Equal(device.type, B.Clip(b, 480, 640).device.type);
        Assert.Equal(new long[] { 0 }, B.Nms(empty(0, 4, device: device), empty(0, device: device), 0.5).shape);
    }

    [Fact]
    public void Bad_input_is_rejected_with_a_clear_reason()
    {
        using var scope = NewDisposeScope();
        var good = ToTensor([[0, 0, 1, 1], [0, 0, 2, 2]], CPU);
        var e = Assert.Throws<ArgumentException>(() => B.Iou(zeros(2, 5), good));
        Assert.Equal("a", e.ParamName);
        Assert.Contains("(N,4)", e.Message);
        e = Assert.Throws<ArgumentException>(() => B.Area(zeros(new long[] { 2, 4 }, ScalarType.Float64)));
        Assert.Contains("float32", e.Message);
        e = Assert.Throws<ArgumentException>(() => B.Nms(good, tensor(new[] { 0.5f }), 0.5));
        Assert.Equal("scores", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => B.Nms(good, tensor(new[] { 0.5f, 0.4f }), 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => B.Nms(good, tensor(new[] { 0.5f, 0.4f }), double.NaN));
        e = Assert.Throws<ArgumentException>(() => B.BatchedNms(good, tensor(new[] { 0.5f, 0.4f }), tensor(new[] { 0f, 1f }), 0.5));
        Assert.Equal("classIds", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => B.Clip(good, 0, 10));
    }

    /// Boxes of 20-100 px around 60 centres in a 640x480 image, so that suppression chains are long.
    private static (float[][] Boxes, float[] Scores) ClusteredBoxes(int n, int seed)
    {
        var rng = new Random(seed);
        var centres = Enumerable.Range(0, 60).Select(_ => (X: rng.NextSingle() * 640, Y: rng.NextSingle() * 480)).ToArray();
        var boxes = new float[n][];
        var scores = new float[n];
        for (var i = 0; i < n; i++)
        {
            var (cx, cy) = centres[rng.Next(centres.Length)];
            float w = 20 + rng.NextSingle() * 80, h = 20 + rng.NextSingle() * 80;
            cx += (rng.NextSingle() - 0.5f) * 30;
            cy += (rng.NextSingle() - 0.5f) * 30;
            boxes[i] = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
            scores[i] = 0.001f + 0.999f * rng.NextSingle(); // all above OpenCV's score threshold of 0
        }
        return (boxes, scores);
    }

}
