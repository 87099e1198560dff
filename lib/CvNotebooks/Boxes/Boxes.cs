using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Boxes;

/// Bounding boxes as (N,4) float32 tensors, xyxy (x1, y1, x2, y2) in pixels unless a name says otherwise, with
/// x2 >= x1 and y2 >= y1 (not checked: that would read the data). Anchored on torchvision.ops: box_iou,
/// generalized_box_iou, nms, batched_nms, box_convert, box_area, clip_boxes_to_image, with the same meanings.
/// Areas have no "+1" (a box from 0 to 10 is 10 wide), as in torchvision and OpenCV's Rect.
public static class Boxes
{
    /// Intersection over union of every box of `a` (N,4) with every box of `b` (M,4): an (N,M) matrix in [0,1].
    /// Two boxes whose union has zero area (both degenerate) have IoU 0, not NaN.
    public static Tensor Iou(Tensor a, Tensor b)
    {
        Check(a, nameof(a));
        Check(b, nameof(b));
        Guard.SameDevice(a, b, nameof(a), nameof(b));
        using var scope = NewDisposeScope();
        var (inter, union) = InterUnion(a, b);
        return SafeDivide(inter, union).MoveToOuterDisposeScope();
    }

    /// Generalized IoU (Rezatofighi et al., 2019) of every box of `a` (N,4) with every box of `b` (M,4): (N,M) in
    /// [-1,1]. GIoU = IoU - (hull - union) / hull, where hull is the smallest box enclosing both; unlike IoU it still
    /// says how far apart two disjoint boxes are, which is why it is used as a regression loss. Never more than the IoU.
    public static Tensor GeneralizedIou(Tensor a, Tensor b)
    {
        Check(a, nameof(a));
        Check(b, nameof(b));
        Guard.SameDevice(a, b, nameof(a), nameof(b));
        using var scope = NewDisposeScope();
        var (inter, union) = InterUnion(a, b);
        var iou = SafeDivide(inter, union);
        var lt = minimum(a[.., TensorIndex.None, ..2], b[TensorIndex.None, .., ..2]);
        var rb = maximum(a[.., TensorIndex.None, 2..], b[TensorIndex.None, .., 2..]);
        var wh = (rb - lt).clamp_min_(0);
        var hull = wh[.., .., 0] * wh[.., .., 1];
        return iou.sub_(SafeDivide(hull - union, hull)).MoveToOuterDisposeScope();
    }

    /// Non-maximum suppression, as torchvision.ops.nms: visits boxes from the highest score down, keeps a box and
    /// drops every later box whose IoU with it is greater than `iouThreshold`. Returns the kept indices (int64, into
    /// `boxes`) sorted by decreasing score; equal scores keep their input order (a stable sort, as OpenCV's NMSBoxes).
    ///
    /// The greedy scan is sequential by nature. On the CPU it runs as torchvision's CPU kernel does: one pass over
    /// the sorted boxes, computing IoUs only against boxes still alive (no N x N matrix). On other devices the N x N
    /// "IoU above threshold" matrix is computed on the device, packed to bits (N*N/8 bytes) and copied to the host
    /// for the scan, as torchvision's CUDA kernel does; the kept indices are gathered back on the device.
    public static Tensor Nms(Tensor boxes, Tensor scores, double iouThreshold) =>
        NmsCore(boxes, scores, null, iouThreshold, NmsPath.Auto);

    /// Class-wise non-maximum suppression (torchvision.ops.batched_nms): a box can only suppress boxes of its own
    /// class. `classIds` is (N) int64 or int32. Returns kept indices sorted by decreasing score across all classes.
    ///
    /// torchvision gets this by shifting each class's boxes by classId * (max coordinate + 1) so boxes of different
    /// classes never overlap, then calling plain NMS. Here the scan is our own, so "same class" is simply part of
    /// the suppression test: exact, with no float32 rounding of large offsets. The result is the same.
    public static Tensor BatchedNms(Tensor boxes, Tensor scores, Tensor classIds, double iouThreshold)
    {
        ArgumentNullException.ThrowIfNull(classIds);
        return NmsCore(boxes, scores, classIds, iouThreshold, NmsPath.Auto);
    }

    /// (x1, y1, x2, y2) to (x, y, width, height), OpenCV's Rect layout.
    public static Tensor XyxyToXywh(Tensor boxes)
    {
        Check(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        return stack([c[0], c[1], c[2] - c[0], c[3] - c[1]], 1).MoveToOuterDisposeScope();
    }

    /// (x, y, width, height) to (x1, y1, x2, y2).
    public static Tensor XywhToXyxy(Tensor boxes)
    {
        Check(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        return stack([c[0], c[1], c[0] + c[2], c[1] + c[3]], 1).MoveToOuterDisposeScope();
    }

    /// (centre x, centre y, width, height), the layout of YOLO and DETR outputs, to (x1, y1, x2, y2).
    public static Tensor CxcywhToXyxy(Tensor boxes)
    {
        Check(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        var hw = c[2] * 0.5f;
        var hh = c[3] * 0.5f;
        return stack([c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh], 1).MoveToOuterDisposeScope();
    }

    /// (x1, y1, x2, y2) to (centre x, centre y, width, height).
    public static Tensor XyxyToCxcywh(Tensor boxes)
    {
        Check(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        return stack([(c[0] + c[2]) * 0.5f, (c[1] + c[3]) * 0.5f, c[2] - c[0], c[3] - c[1]], 1).MoveToOuterDisposeScope();
    }

    /// Area of each xyxy box: (N).
    public static Tensor Area(Tensor boxes)
    {
        Check(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        return ((boxes[.., 2] - boxes[.., 0]) * (boxes[.., 3] - boxes[.., 1])).MoveToOuterDisposeScope();
    }

    /// Clamps xyxy boxes to an image of the given size: x to [0, width], y to [0, height] (torchvision's
    /// clip_boxes_to_image). A box wholly outside becomes a zero-area box on the border.
    public static Tensor Clip(Tensor boxes, long height, long width)
    {
        Check(boxes, nameof(boxes));
        Guard.Positive(height, nameof(height));
        Guard.Positive(width, nameof(width));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        return stack([c[0].clamp(0, width), c[1].clamp(0, height), c[2].clamp(0, width), c[3].clamp(0, height)], 1)
            .MoveToOuterDisposeScope();
    }

    /// Which implementation of the greedy scan runs; tests force each on the CPU to prove they agree.
    internal enum NmsPath { Auto, Greedy, MaskMatrix }

    internal static Tensor NmsCore(Tensor boxes, Tensor scores, Tensor? classIds, double iouThreshold, NmsPath path)
    {
        Check(boxes, nameof(boxes));
        ArgumentNullException.ThrowIfNull(scores);
        var n = boxes.shape[0];
        if (scores.dim() != 1 || scores.shape[0] != n)
            throw new ArgumentException($"scores must have shape ({n}), one per box; got {Guard.Shape(scores)}.", nameof(scores));
        if (scores.dtype != ScalarType.Float32)
            throw new ArgumentException($"scores must be float32; got {scores.dtype}.", nameof(scores));
        Guard.SameDevice(boxes, scores, nameof(boxes), nameof(scores));
        if (classIds is not null)
        {
            if (classIds.dim() != 1 || classIds.shape[0] != n)
                throw new ArgumentException($"classIds must have shape ({n}), one per box; got {Guard.Shape(classIds)}.", nameof(classIds));
            if (classIds.dtype is not (ScalarType.Int64 or ScalarType.Int32))
                throw new ArgumentException($"classIds must be int64 or int32; got {classIds.dtype}.", nameof(classIds));
            Guard.SameDevice(boxes, classIds, nameof(boxes), nameof(classIds));
        }
        if (!(iouThreshold >= 0 && iouThreshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, $"iouThreshold must lie in [0,1]; got {iouThreshold}.");

        using var scope = NewDisposeScope();
        if (n == 0) return empty(0, ScalarType.Int64, device: boxes.device).MoveToOuterDisposeScope();
        var order = scores.sort(0, descending: true, stable: true).Indices;
        if (path == NmsPath.Auto) path = boxes.device.type == DeviceType.CPU ? NmsPath.Greedy : NmsPath.MaskMatrix;
        var kept = path == NmsPath.Greedy
            ? GreedyOnCpu(boxes, order, classIds, (float)iouThreshold)
            : ScanMaskMatrix(boxes, order, classIds, (float)iouThreshold);
        var positions = tensor(kept.ToArray(), device: boxes.device);
        return order.index_select(0, positions).MoveToOuterDisposeScope();
    }

    /// torchvision's CPU kernel: positions (into `order`) of kept boxes, IoU computed only against live boxes.
    private static List<long> GreedyOnCpu(Tensor boxes, Tensor order, Tensor? classIds, float threshold)
    {
        var n = (int)boxes.shape[0];
        var b = boxes.contiguous().data<float>().ToArray();
        var o = order.data<long>().ToArray();
        var cls = classIds?.to(ScalarType.Int64).contiguous().data<long>().ToArray();
        var x1 = new float[n]; var y1 = new float[n]; var x2 = new float[n]; var y2 = new float[n]; var area = new float[n];
        for (var p = 0; p < n; p++)
        {
            var i = (int)o[p];
            x1[p] = b[4 * i]; y1[p] = b[4 * i + 1]; x2[p] = b[4 * i + 2]; y2[p] = b[4 * i + 3];
            area[p] = (x2[p] - x1[p]) * (y2[p] - y1[p]);
        }
        var suppressed = new bool[n];
        var kept = new List<long>();
        for (var p = 0; p < n; p++)
        {
            if (suppressed[p]) continue;
            kept.Add(p);
            for (var q = p + 1; q < n; q++)
            {
                if (suppressed[q]) continue;
                if (cls is not null && cls[o[p]] != cls[o[q]]) continue;
                var w = MathF.Max(0, MathF.Min(x2[p], x2[q]) - MathF.Max(x1[p], x1[q]));
                var h = MathF.Max(0, MathF.Min(y2[p], y2[q]) - MathF.Max(y1[p], y1[q]));
                var inter = w * h;
                var union = area[p] + area[q] - inter;
                if (union > 0 && inter / union > threshold) suppressed[q] = true;
            }
        }
        return kept;
    }

    /// torchvision's CUDA scheme: the "suppresses" matrix on the device, bit-packed, one copy to the host, scan there.
    private static List<long> ScanMaskMatrix(Tensor boxes, Tensor order, Tensor? classIds, float threshold)
    {
        var n = (int)boxes.shape[0];
        var sorted = boxes.index_select(0, order);
        var (inter, union) = InterUnion(sorted, sorted);
        var mask = SafeDivide(inter, union).gt(threshold);
        if (classIds is not null)
        {
            var c = classIds.index_select(0, order);
            mask.logical_and_(c.unsqueeze(1).eq(c.unsqueeze(0)));
        }
        var words = (n + 7) / 8;
        var bits = nn.functional.pad(mask.to(ScalarType.Int32), [0, words * 8 - n]).reshape(n, words, 8);
        var weights = tensor(new[] { 1, 2, 4, 8, 16, 32, 64, 128 }, device: boxes.device);
        var packed = bits.mul(weights).sum(-1).to(ScalarType.Byte).cpu().contiguous().data<byte>().ToArray();

        var removed = new bool[n];
        var kept = new List<long>();
        for (var p = 0; p < n; p++)
        {
            if (removed[p]) continue;
            kept.Add(p);
            var row = p * words;
            for (var q = p + 1; q < n; q++)
                if ((packed[row + (q >> 3)] & (1 << (q & 7))) != 0) removed[q] = true;
        }
        return kept;
    }

    private static (Tensor Inter, Tensor Union) InterUnion(Tensor a, Tensor b)
    {
        var areaA = (a[.., 2] - a[.., 0]) * (a[.., 3] - a[.., 1]);
        var areaB = (b[.., 2] - b[.., 0]) * (b[.., 3] - b[.., 1]);
        var lt = maximum(a[.., TensorIndex.None, ..2], b[TensorIndex.None, .., ..2]);
        var rb = minimum(a[.., TensorIndex.None, 2..], b[TensorIndex.None, .., 2..]);
        var wh = (rb - lt).clamp_min_(0);
        var inter = wh[.., .., 0] * wh[.., .., 1];
        var union = areaA.unsqueeze(1) + areaB.unsqueeze(0) - inter;
        return (inter, union);
    }

    /// num / den where den > 0, else 0 (an empty union or hull has no meaningful ratio).
    private static Tensor SafeDivide(Tensor num, Tensor den)
    {
        var positive = den.gt(0);
        return where(positive, num / where(positive, den, ones_like(den)), zeros_like(num));
    }

    private static void Check(Tensor boxes, string name)
    {
        ArgumentNullException.ThrowIfNull(boxes, name);
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"{name} must have shape (N,4), one box per row; got {Guard.Shape(boxes)}.", name);
        if (boxes.dtype != ScalarType.Float32)
            throw new ArgumentException($"{name} must be float32; got {boxes.dtype}. Convert with .to(ScalarType.Float32).", name);
    }
}
