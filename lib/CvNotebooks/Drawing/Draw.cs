using System.Globalization;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;
using Scalar = OpenCvSharp.Scalar;

namespace CvNotebooks.Drawing;

/// Annotations drawn with OpenCV on a copy of an image: detection boxes with labels, keypoints and skeletons,
/// optical flow (arrows or the colour wheel), tracks, polygons and contours, segmentation masks.
///
/// Every function returns a NEW 8-bit BGR Mat and leaves its input as it was (a gray or BGRA input is
/// converted to BGR first, a float input in [0,1] to 8 bits), so annotations can be compared side by side with
/// the original: Show.Images(("input", img), ("detections", Draw.Boxes(img, boxes, classes))).
/// Colours come from Palette: class (or track) id k always has the same colour. Coordinates are pixels, x to
/// the right and y down; tensors may live on any device (only their few numbers are copied to the CPU).
public static class Draw
{
    private const HersheyFonts Font = HersheyFonts.HersheySimplex;
    private const double FontScale = 0.5;

    /// Boxes (N,4) as x1,y1,x2,y2 in pixels, optional classes (N) and scores (N): each box is outlined in its
    /// class's colour with a label "name 0.87" (classNames[class], else the class number) above its top-left
    /// corner (inside the box when there is no room above). Without classes every box takes class 0's colour
    /// and a label only when there are scores.
    public static Mat Boxes(Mat image, Tensor boxes, Tensor? classes = null, Tensor? scores = null,
                            IReadOnlyList<string>? classNames = null, int thickness = 2)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"boxes must have shape (N,4) as x1,y1,x2,y2; got {Guard.Shape(boxes)}", nameof(boxes));
        var n = (int)boxes.shape[0];
        var coords = Floats(boxes);
        var rows = Enumerable.Range(0, n).Select(i => coords.AsSpan(i * 4, 4).ToArray()).ToArray();
        int[]? ids = classes is null ? null : Longs(classes, n, nameof(classes)).Select(v => (int)v).ToArray();
        var s = scores is null ? null : Floats(scores, n, nameof(scores));
        return Boxes(image, rows, ids, s, classNames, thickness);
    }

    /// Boxes as float[N][4] (x1,y1,x2,y2 in pixels), with optional class ids, scores and class names.
    public static Mat Boxes(Mat image, float[][] boxes, int[]? classes = null, float[]? scores = null,
                            IReadOnlyList<string>? classNames = null, int thickness = 2)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        CheckCount(classes?.Length, boxes.Length, nameof(classes));
        CheckCount(scores?.Length, boxes.Length, nameof(scores));
        var canvas = Canvas(image);
        for (var i = 0; i < boxes.Length; i++)
        {
            var id = classes?[i] ?? 0;
            string? label = null;
            if (classes is not null)
                label = classNames is not null && id >= 0 && id < classNames.Count ? classNames[id] : id.ToString(CultureInfo.InvariantCulture);
            if (scores is not null)
                label = (label is null ? "" : label + " ") + scores[i].ToString("0.00", CultureInfo.InvariantCulture);
            DrawBox(canvas, boxes[i], id, label, thickness);
        }
        return canvas;
    }

    /// Boxes with a text label each (e.g. "cat"); the colour follows the label's text, so "cat" has one
    /// colour in every image.
    public static Mat Boxes(Mat image, float[][] boxes, string[] labels, float[]? scores = null, int thickness = 2)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(labels);
        CheckCount(labels.Length, boxes.Length, nameof(labels));
        CheckCount(scores?.Length, boxes.Length, nameof(scores));
        var canvas = Canvas(image);
        for (var i = 0; i < boxes.Length; i++)
        {
            var label = scores is null ? labels[i] : $"{labels[i]} {scores[i].ToString("0.00", CultureInfo.InvariantCulture)}";
            DrawBox(canvas, boxes[i], StableId(labels[i]), label, thickness);
        }
        return canvas;
    }

    /// Keypoints (K,2) or (K,3) with a score column, or (N,K,2|3) for N instances (people, say). Each
    /// instance has its palette colour; points with a score below minScore are skipped, and so are skeleton
    /// edges (pairs of keypoint indices) that touch them.
    public static Mat Keypoints(Mat image, Tensor points, IReadOnlyList<(int From, int To)>? skeleton = null,
                                int radius = 3, float minScore = 0f, int thickness = 2)
    {
        ArgumentNullException.ThrowIfNull(points);
        var p = points.dim() == 2 ? points.unsqueeze(0) : points;
        try
        {
            if (p.dim() != 3 || p.shape[2] is not (2 or 3))
                throw new ArgumentException($"keypoints must have shape (K,2), (K,3), (N,K,2) or (N,K,3); got {Guard.Shape(points)}", nameof(points));
            int n = (int)p.shape[0], k = (int)p.shape[1], d = (int)p.shape[2];
            var values = Floats(p);
            var canvas = Canvas(image);
            for (var i = 0; i < n; i++)
            {
                var instance = new float[k][];
                for (var j = 0; j < k; j++) instance[j] = values.AsSpan((i * k + j) * d, d).ToArray();
                DrawInstance(canvas, instance, skeleton, Palette.Color(i), radius, minScore, thickness);
            }
            return canvas;
        }
        finally
        {
            if (!ReferenceEquals(p, points)) p.Dispose();
        }
    }

    /// One instance's keypoints as float[K][2] (x,y) or float[K][3] (x,y,score).
    public static Mat Keypoints(Mat image, float[][] points, IReadOnlyList<(int From, int To)>? skeleton = null,
                                int radius = 3, float minScore = 0f, int thickness = 2, int colorId = 0)
    {
        ArgumentNullException.ThrowIfNull(points);
        var canvas = Canvas(image);
        DrawInstance(canvas, points, skeleton, Palette.Color(colorId), radius, minScore, thickness);
        return canvas;
    }

    /// Points from OpenCV (corners from GoodFeaturesToTrack, tracked points from CalcOpticalFlowPyrLK).
    public static Mat Keypoints(Mat image, IEnumerable<Point2f> points, int radius = 3, int colorId = 0, int thickness = 2)
    {
        ArgumentNullException.ThrowIfNull(points);
        return Keypoints(image, points.Select(pt => new[] { pt.X, pt.Y }).ToArray(), null, radius, 0f, thickness, colorId);
    }

    /// Optical flow as arrows on a grid every `step` pixels: flow (2,H,W) or (1,2,H,W), channel 0 = dx and
    /// 1 = dy in pixels, the image's size. Arrows are `scale` times the motion, coloured by direction as in
    /// FlowToColor (or all in `color`); motions shorter than minMagnitude pixels are left out.
    public static Mat FlowArrows(Mat image, Tensor flow, int step = 16, double scale = 1.0, double minMagnitude = 0.5,
                                 Scalar? color = null, int thickness = 1)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be at least 1");
        using var scope = NewDisposeScope();
        var f = flow.dim() == 4 && flow.shape[0] == 1 ? flow[0] : flow;
        if (f.dim() != 3 || f.shape[0] != 2)
            throw new ArgumentException($"flow must have shape (2,H,W) or (1,2,H,W); got {Guard.Shape(flow)}", nameof(flow));
        int h = (int)f.shape[1], w = (int)f.shape[2];
        CheckSize(image, h, w);
        var ys = GridPositions(h, step);
        var xs = GridPositions(w, step);
        var canvas = Canvas(image);
        if (ys.Length == 0 || xs.Length == 0) return canvas;
        var sampled = f.detach().index_select(1, tensor(ys, device: f.device)).index_select(2, tensor(xs, device: f.device));
        var v = Floats(sampled);
        var plane = ys.Length * xs.Length;
        for (var r = 0; r < ys.Length; r++)
            for (var c = 0; c < xs.Length; c++)
                Arrow(canvas, (int)xs[c], (int)ys[r], v[r * xs.Length + c], v[plane + r * xs.Length + c], scale, minMagnitude, color, thickness);
        return canvas;
    }

    /// Arrows for a flow Mat from OpenCV (CV_32FC2, e.g. Cv2.CalcOpticalFlowFarneback).
    public static Mat FlowArrows(Mat image, Mat flow, int step = 16, double scale = 1.0, double minMagnitude = 0.5,
                                 Scalar? color = null, int thickness = 1)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (flow.Type() != MatType.CV_32FC2) throw new ArgumentException($"flow must be CV_32FC2 (dx,dy); got {flow.Type()}", nameof(flow));
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be at least 1");
        int rows = flow.Rows, cols = flow.Cols;
        CheckSize(image, rows, cols);
        var canvas = Canvas(image);
        for (var y = step / 2; y < rows; y += step)
            for (var x = step / 2; x < cols; x += step)
            {
                var d = flow.At<Vec2f>(y, x);
                Arrow(canvas, x, y, d.Item0, d.Item1, scale, minMagnitude, color, thickness);
            }
        return canvas;
    }

    /// Optical flow as colours (the usual flow picture): hue = direction (right red, down yellow-green, left
    /// cyan, up blue-violet: OpenCV's HSV hue wheel), brightness = speed, full at maxMagnitude pixels (the
    /// largest motion in the field when not given). Flow (2,H,W) or (1,2,H,W); returns an 8-bit BGR Mat.
    public static Mat FlowToColor(Tensor flow, double? maxMagnitude = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        using var scope = NewDisposeScope();
        var f = flow.dim() == 4 && flow.shape[0] == 1 ? flow[0] : flow;
        if (f.dim() != 3 || f.shape[0] != 2)
            throw new ArgumentException($"flow must have shape (2,H,W) or (1,2,H,W); got {Guard.Shape(flow)}", nameof(flow));
        int h = (int)f.shape[1], w = (int)f.shape[2];
        var hwc = f.detach().to(ScalarType.Float32).permute(1, 2, 0).contiguous().cpu();
        using var mat = new Mat(h, w, MatType.CV_32FC2);
        unsafe
        {
            hwc.bytes.CopyTo(new Span<byte>((void*)mat.Data, checked(h * w * 2 * sizeof(float))));
        }
        return FlowToColor(mat, maxMagnitude);
    }

    /// The colour picture of a CV_32FC2 flow Mat (see the tensor overload).
    public static Mat FlowToColor(Mat flow, double? maxMagnitude = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (flow.Type() != MatType.CV_32FC2) throw new ArgumentException($"flow must be CV_32FC2 (dx,dy); got {flow.Type()}", nameof(flow));
        Cv2.Split(flow, out var parts);
        using var dx = parts[0];
        using var dy = parts[1];
        using var magnitude = new Mat();
        using var angle = new Mat();
        Cv2.CartToPolar(dx, dy, magnitude, angle, angleInDegrees: true);
        double max;
        if (maxMagnitude is { } given) max = given;
        else magnitude.MinMaxLoc(out double _, out max);
        if (!(max > 0)) max = 1;
        using var hue = new Mat();
        angle.ConvertTo(hue, MatType.CV_8U, 0.5);                 // OpenCV's 8-bit hue is 0..180
        using var value = new Mat();
        magnitude.ConvertTo(value, MatType.CV_8U, 255.0 / max);   // saturates above max
        using var saturation = new Mat(flow.Rows, flow.Cols, MatType.CV_8UC1, Scalar.All(255));
        using var hsv = new Mat();
        Cv2.Merge([hue, saturation, value], hsv);
        var bgr = new Mat();
        Cv2.CvtColor(hsv, bgr, ColorConversionCodes.HSV2BGR);
        return bgr;
    }

    /// Tracks: for each id its points in time order, drawn as a polyline in the id's colour with a dot at the
    /// latest point and the id beside it. tail > 0 keeps only the last `tail` points of each track.
    /// Works with any Dictionary&lt;int, List&lt;Point2f&gt;&gt; (or arrays of points).
    public static Mat Tracks<TPoints>(Mat image, IReadOnlyDictionary<int, TPoints> tracks, int thickness = 2,
                                      bool showIds = true, int tail = 0) where TPoints : IEnumerable<Point2f>
    {
        ArgumentNullException.ThrowIfNull(tracks);
        var canvas = Canvas(image);
        foreach (var (id, track) in tracks.OrderBy(kv => kv.Key))
        {
            var points = track.Select(p => new Point((int)Math.Round(p.X), (int)Math.Round(p.Y))).ToList();
            if (tail > 0 && points.Count > tail) points = points.GetRange(points.Count - tail, tail);
            if (points.Count == 0) continue;
            var colour = Palette.Color(id);
            if (points.Count > 1) Cv2.Polylines(canvas, [points], false, colour, thickness, LineTypes.AntiAlias);
            var last = points[^1];
            Cv2.Circle(canvas, last, thickness + 2, colour, -1, LineTypes.AntiAlias);
            if (showIds) Label(canvas, id.ToString(CultureInfo.InvariantCulture), new Point(last.X + thickness + 4, last.Y), id, above: false);
        }
        return canvas;
    }

    /// A polygon through the points (closed unless told otherwise), outlined in `color` (class 0's colour by
    /// default); fillOpacity > 0 also fills it, blended with the image.
    public static Mat Polygon(Mat image, IEnumerable<Point2f> points, Scalar? color = null, int thickness = 2,
                              bool closed = true, double fillOpacity = 0)
    {
        ArgumentNullException.ThrowIfNull(points);
        var pts = points.Select(p => new Point((int)Math.Round(p.X), (int)Math.Round(p.Y))).ToArray();
        var canvas = Canvas(image);
        var colour = color ?? Palette.Color(0);
        if (pts.Length == 0) return canvas;
        if (fillOpacity > 0 && closed && pts.Length >= 3) Fill(canvas, [pts], [colour], fillOpacity);
        Cv2.Polylines(canvas, [pts], closed, colour, thickness, LineTypes.AntiAlias);
        return canvas;
    }

    /// Contours (from Cv2.FindContours, or any point lists), each in its index's palette colour unless colorId
    /// gives one colour for all; fillOpacity > 0 also fills them, blended with the image.
    public static Mat Contours(Mat image, IEnumerable<IEnumerable<Point>> contours, int thickness = 2,
                               double fillOpacity = 0, int? colorId = null)
    {
        ArgumentNullException.ThrowIfNull(contours);
        var list = contours.Select(c => c.ToArray()).Where(c => c.Length > 0).ToList();
        var canvas = Canvas(image);
        var colours = list.Select((_, i) => Palette.Color(colorId ?? i)).ToList();
        if (fillOpacity > 0) Fill(canvas, list, colours, fillOpacity);
        for (var i = 0; i < list.Count; i++)
            Cv2.DrawContours(canvas, list, i, colours[i], thickness, LineTypes.AntiAlias);
        return canvas;
    }

    /// A segmentation mask over the image: mask (H,W), (1,H,W) or (1,1,H,W) of class ids (0 = background,
    /// left as it is) or Bool (true = class 1); each class is blended in its palette colour with `opacity`.
    public static Mat Mask(Mat image, Tensor mask, double opacity = 0.5)
    {
        ArgumentNullException.ThrowIfNull(mask);
        using var scope = NewDisposeScope();
        var m = mask.detach();
        while (m.dim() > 2 && m.shape[0] == 1) m = m.squeeze(0);
        if (m.dim() != 2) throw new ArgumentException($"mask must have shape (H,W), (1,H,W) or (1,1,H,W); got {Guard.Shape(mask)}", nameof(mask));
        int h = (int)m.shape[0], w = (int)m.shape[1];
        CheckSize(image, h, w);
        var ids = m.to(ScalarType.Int32).contiguous().cpu();
        using var idMat = new Mat(h, w, MatType.CV_32SC1);
        unsafe
        {
            ids.bytes.CopyTo(new Span<byte>((void*)idMat.Data, checked(h * w * sizeof(int))));
        }
        var classes = ids.unique().Item1.data<int>().ToArray().Where(c => c != 0).ToArray();
        var canvas = Canvas(image);
        if (classes.Length == 0) return canvas;
        using var layer = canvas.Clone();
        using var any = new Mat(h, w, MatType.CV_8UC1, Scalar.All(0));
        foreach (var c in classes)
        {
            using var where = new Mat();
            Cv2.Compare(idMat, new Scalar(c), where, CmpTypes.EQ);
            layer.SetTo(Palette.Color(c), where);
            Cv2.BitwiseOr(any, where, any);
        }
        using var blended = new Mat();
        Cv2.AddWeighted(canvas, 1 - opacity, layer, opacity, 0, blended);
        blended.CopyTo(canvas, any);
        return canvas;
    }

    /// An 8-bit BGR copy of the image to draw on.
    public static Mat Canvas(Mat image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Empty()) throw new ArgumentException("the Mat is empty (was the image read? check the path)", nameof(image));
        using var bytes = new Mat();
        if (image.Depth() == MatType.CV_8U) image.CopyTo(bytes);
        else if (image.Depth() == MatType.CV_32F || image.Depth() == MatType.CV_64F) image.ConvertTo(bytes, MatType.CV_8U, 255.0);
        else Cv2.Normalize(image, bytes, 0, 255, NormTypes.MinMax, MatType.CV_8U);
        var canvas = new Mat();
        switch (bytes.Channels())
        {
            case 3: bytes.CopyTo(canvas); break;
            case 1: Cv2.CvtColor(bytes, canvas, ColorConversionCodes.GRAY2BGR); break;
            case 4: Cv2.CvtColor(bytes, canvas, ColorConversionCodes.BGRA2BGR); break;
            default: throw new ArgumentException($"an image has 1, 3 or 4 channels; got {bytes.Channels()}", nameof(image));
        }
        return canvas;
    }

    private static void DrawBox(Mat canvas, float[] box, int id, string? label, int thickness)
    {
        if (box.Length != 4) throw new ArgumentException($"a box is x1,y1,x2,y2; got {box.Length} numbers");
        var p1 = new Point((int)Math.Round(Math.Min(box[0], box[2])), (int)Math.Round(Math.Min(box[1], box[3])));
        var p2 = new Point((int)Math.Round(Math.Max(box[0], box[2])), (int)Math.Round(Math.Max(box[1], box[3])));
        Cv2.Rectangle(canvas, p1, p2, Palette.Color(id), thickness, LineTypes.Link8);
        if (label is not null) Label(canvas, label, p1, id, above: true, inset: thickness);
    }

    /// A filled label in the id's colour: above `at` (its bottom-left on `at`) or, without room, just inside.
    private static void Label(Mat canvas, string text, Point at, int id, bool above, int inset = 0)
    {
        var size = Cv2.GetTextSize(text, Font, FontScale, 1, out var baseline);
        int height = size.Height + baseline + 4, width = size.Width + 4;
        var top = above ? at.Y - height : at.Y - height / 2;
        if (top < 0) top = at.Y + inset;
        var rect = new Rect(at.X, top, width, height);
        Cv2.Rectangle(canvas, rect, Palette.Color(id), -1, LineTypes.Link8);
        Cv2.PutText(canvas, text, new Point(at.X + 2, top + size.Height + 2), Font, FontScale, Palette.TextColorOn(id), 1, LineTypes.AntiAlias);
    }

    private static void DrawInstance(Mat canvas, float[][] points, IReadOnlyList<(int From, int To)>? skeleton, Scalar colour,
                                     int radius, float minScore, int thickness)
    {
        bool Visible(int j) => j >= 0 && j < points.Length && points[j].Length >= 2
                               && (points[j].Length < 3 || points[j][2] >= minScore)
                               && float.IsFinite(points[j][0]) && float.IsFinite(points[j][1]);
        Point At(int j) => new((int)Math.Round(points[j][0]), (int)Math.Round(points[j][1]));
        if (skeleton is not null)
            foreach (var (from, to) in skeleton)
                if (Visible(from) && Visible(to)) Cv2.Line(canvas, At(from), At(to), colour, thickness, LineTypes.AntiAlias);
        for (var j = 0; j < points.Length; j++)
            if (Visible(j)) Cv2.Circle(canvas, At(j), radius, colour, -1, LineTypes.AntiAlias);
    }

    private static void Arrow(Mat canvas, int x, int y, float dx, float dy, double scale, double minMagnitude, Scalar? color, int thickness)
    {
        var length = Math.Sqrt(dx * (double)dx + dy * (double)dy);
        if (!(length >= minMagnitude)) return;
        var colour = color ?? DirectionColour(dx, dy);
        var tip = new Point((int)Math.Round(x + dx * scale), (int)Math.Round(y + dy * scale));
        Cv2.ArrowedLine(canvas, new Point(x, y), tip, colour, thickness, LineTypes.AntiAlias, 0, 0.3);
    }

    /// The FlowToColor hue of a direction, at full brightness.
    private static Scalar DirectionColour(float dx, float dy)
    {
        var degrees = Math.Atan2(dy, dx) * 180 / Math.PI;
        if (degrees < 0) degrees += 360;
        using var hsv = new Mat(1, 1, MatType.CV_8UC3, new Scalar(Math.Round(degrees / 2) % 180, 255, 255));
        using var bgr = new Mat();
        Cv2.CvtColor(hsv, bgr, ColorConversionCodes.HSV2BGR);
        var v = bgr.At<Vec3b>(0, 0);
        return new Scalar(v.Item0, v.Item1, v.Item2);
    }

    private static void Fill(Mat canvas, IReadOnlyList<Point[]> polygons, IReadOnlyList<Scalar> colours, double opacity)
    {
        using var layer = canvas.Clone();
        for (var i = 0; i < polygons.Count; i++) Cv2.FillPoly(layer, [polygons[i]], colours[i], LineTypes.AntiAlias);
        Cv2.AddWeighted(canvas, 1 - opacity, layer, opacity, 0, canvas);
    }

    /// Stable across runs and machines (string.GetHashCode is randomised per process): FNV-1a.
    private static int StableId(string label)
    {
        unchecked
        {
            var hash = 2166136261u;
            foreach (var ch in label) { hash ^= ch; hash *= 16777619u; }
            return (int)(hash % 1000u);
        }
    }

    private static float[] Floats(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Float32).contiguous().cpu().data<float>().ToArray();
    }

    private static long[] GridPositions(int length, int step)
    {
        var positions = new List<long>();
        for (var p = step / 2; p < length; p += step) positions.Add(p);
        return [.. positions];
    }

    private static float[] Floats(Tensor t, int n, string name)
    {
        using var scope = NewDisposeScope();
        var values = Floats(t.flatten());
        CheckCount(values.Length, n, name);
        return values;
    }

    private static long[] Longs(Tensor t, int n, string name)
    {
        using var scope = NewDisposeScope();
        var values = t.detach().flatten().to(ScalarType.Int64).contiguous().cpu().data<long>().ToArray();
        CheckCount(values.Length, n, name);
        return values;
    }

    private static void CheckCount(int? count, int expected, string name)
    {
        if (count is { } c && c != expected) throw new ArgumentException($"{name} has {c} entries for {expected} items", name);
    }

    private static void CheckSize(Mat image, int h, int w)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Rows != h || image.Cols != w)
            throw new ArgumentException($"the image is {image.Cols}x{image.Rows} but the field is {w}x{h}; resize one to match", nameof(image));
    }
}
