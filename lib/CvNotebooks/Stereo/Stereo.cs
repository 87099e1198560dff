using System.Globalization;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Stereo;

/// Depth from a rectified stereo pair: block matching to a disparity map, disparity to metric depth, depth to a point
/// cloud, and the cloud to a PLY file that MeshLab, CloudCompare or Open3D open.
///
/// Rectified means a scene point lies on the same row in both images, shifted left in the right image by its
/// disparity d = f B / Z (focal length f in pixels, baseline B, depth Z). Disparities are float32 pixels;
/// -1 marks pixels with no disparity, as OpenCV's StereoBM marks them with (minDisparity - 1).
public static class Stereo
{
    /// The most cost-volume entries (batch x disparities x rows x columns) held at once; taller images are matched
    /// in bands of rows. 32M 16-bit entries are 64 MB; the box filter needs about three such buffers.
    private const long VolumeBudget = 32L << 20;

    /// Disparity of a rectified gray pair by block matching, the algorithm of Cv2.StereoBM (Konolige's), with its
    /// parameters and defaults: (B,1,H,W) float32 in pixels, -1 where there is none.
    ///
    /// Steps, each a whole-image tensor operation:
    /// 1. Quantise to 8 bits (round(255 x)), as StereoBM takes 8-bit images; costs are then exact integers and ties
    ///    break as in OpenCV.
    /// 2. Pre-filter (preFilterCap 1..63): the x-Sobel response (horizontal difference of a [1 2 1] vertical blur),
    ///    clipped to [-cap, cap] and offset by cap, so brightness differences between the cameras cancel and strong
    ///    edges cannot dominate. preFilterCap 0 matches raw intensities instead (and skips the texture test).
    /// 3. Cost volume: for each disparity d, |left(x) - right(x - d)|: one unfold view of the right image gives all
    ///    the shifts at once; 16-bit integers when a window's sum fits, else 32-bit.
    /// 4. Aggregate: sum each cost over a blockSize x blockSize window (WindowSum along rows, then columns).
    /// 5. Winner takes all: the disparity of least cost; on ties the larger disparity, as OpenCV.
    /// 6. Reject: windows with too little texture (sum of |pre-filtered left - cap| below textureThreshold), and,
    ///    with uniquenessRatio above 0, pixels where a disparity more than 1 away costs at most
    ///    best + best * uniquenessRatio / 100 (an ambiguous match).
    /// 7. Sub-pixel (subpixel): d + (c[d-1] - c[d+1]) / (c[d-1] + c[d+1] - 2 c[d] + |c[d-1] - c[d+1]|), OpenCV's
    ///    equiangular fit, kept as a float (OpenCV rounds it to 1/16 pixel).
    /// As in OpenCV, only pixels whose windows fit inside both images get a disparity: columns from
    /// numDisparities - 1 + blockSize/2 to W - 1 - blockSize/2 and rows from blockSize/2 to H - 1 - blockSize/2.
    /// numDisparities need not be a multiple of 16 (OpenCV's requirement). Memory: the cost volume is built in bands
    /// of rows of at most 32M entries (64 MB at 16 bits), with a few such buffers alive while it is aggregated.
    /// On the CPU this is 10-20x slower than OpenCV's hand-tuned loop (Aloe at quarter size: 50 ms against 5 ms);
    /// on CUDA every step is a whole-volume kernel.
    public static Tensor BlockMatching(Tensor left, Tensor right, int numDisparities = 64, int blockSize = 21,
        int uniquenessRatio = 15, int textureThreshold = 10, int preFilterCap = 31, bool subpixel = true)
    {
        Guard.Images(left, nameof(left), channels: 1);
        Guard.Images(right, nameof(right), channels: 1);
        Guard.SameDevice(left, right, nameof(left), nameof(right));
        if (!left.shape.SequenceEqual(right.shape))
            throw new ArgumentException($"left and right must have the same shape; got {Guard.Shape(left)} and {Guard.Shape(right)}.", nameof(right));
        long b = left.shape[0], h = left.shape[2], w = left.shape[3];
        Guard.OddSize(blockSize, nameof(blockSize), min: 5);
        if (blockSize > 255 || blockSize >= Math.Min(h, w))
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"blockSize must be at most 255 and smaller than the image ({w}x{h}); got {blockSize}.");
        if (numDisparities < 1 || numDisparities >= w)
            throw new ArgumentOutOfRangeException(nameof(numDisparities), numDisparities, $"numDisparities must lie in [1, {w - 1}] (below the image width); got {numDisparities}.");
        if (uniquenessRatio < 0) throw new ArgumentOutOfRangeException(nameof(uniquenessRatio), uniquenessRatio, $"uniquenessRatio must not be negative; got {uniquenessRatio}.");
        if (textureThreshold < 0) throw new ArgumentOutOfRangeException(nameof(textureThreshold), textureThreshold, $"textureThreshold must not be negative; got {textureThreshold}.");
        if (preFilterCap is < 0 or > 63) throw new ArgumentOutOfRangeException(nameof(preFilterCap), preFilterCap, $"preFilterCap must lie in [0, 63] (0: no pre-filter); got {preFilterCap}.");

        using var scope = NewDisposeScope();
        var ndisp = numDisparities;
        var r = blockSize / 2;
        var result = full([b, 1, h, w], -1f, ScalarType.Float32, left.device);
        long x0 = ndisp - 1 + r, x1 = w - r; // output columns [x0, x1)
        long y0 = r, y1 = h - r;             // output rows [y0, y1)
        if (x1 <= x0 || y1 <= y0) return result.MoveToOuterDisposeScope();

        // Costs are small integers: 16 bits hold a whole window's sum when maxCost x blockSize^2 fits (OpenCV's
        // "useShorts" too), which halves the memory the volume moves through; else 32 bits.
        var maxCost = preFilterCap > 0 ? 2 * preFilterCap : 255;
        var costType = (long)maxCost * blockSize * blockSize <= short.MaxValue ? ScalarType.Int16 : ScalarType.Int32;
        var l8 = Quantise(left, costType);
        var r8 = Quantise(right, costType);
        var pl = preFilterCap > 0 ? PrefilterXSobel(l8, preFilterCap) : l8;
        var pr = preFilterCap > 0 ? PrefilterXSobel(r8, preFilterCap) : r8;

        // Columns [ndisp - 1, w) of the left image meet right columns [ndisp - 1 - d, w - d). Channels are dropped:
        // the volume is (B, rows, disparities, columns), so each disparity's costs are one unfold view away.
        var wv = w - ndisp + 1;
        var leftCols = pl[TensorIndex.Colon, 0].narrow(2, ndisp - 1, wv); // (B,H,wv)
        var rightAll = pr[TensorIndex.Colon, 0];                          // (B,H,W)
        var rowsPerBand = Math.Max(1, VolumeBudget / (b * ndisp * wv) - 2 * r);
        for (var ya = y0; ya < y1; ya += rowsPerBand)
        {
            var yb = Math.Min(y1, ya + rowsPerBand);
            using var band = NewDisposeScope();
            var rowsIn = yb - ya + 2 * r;
            var lBand = leftCols.narrow(1, ya - r, rowsIn);
            // unfold: (B, rowsIn, ndisp, wv) where slot j is right columns [j, j + wv), i.e. disparity ndisp - 1 - j
            // (OpenCV's order), so the first minimum along the slots is the larger disparity on ties, as in OpenCV.
            var shifted = rightAll.narrow(1, ya - r, rowsIn).unfold(2, wv, 1);
            var cost = WindowSum(WindowSum(lBand.unsqueeze(2).sub(shifted).abs_(), 1, blockSize), 3, blockSize);
            // cost: (B, rowsOut, ndisp, colsOut)
            var (minCost, best) = cost.min(2, keepdim: true);

            var valid = ones_like(minCost, ScalarType.Bool);
            if (preFilterCap > 0)
            {
                var texture = WindowSum(WindowSum(lBand.sub(preFilterCap).abs_(), 1, blockSize), 2, blockSize).unsqueeze(2);
                valid = valid.logical_and(texture.ge(textureThreshold));
            }

            var disparity = best.neg().add(ndisp - 1).to(ScalarType.Float32);
            if (subpixel && ndisp >= 3)
            {
                var p = cost.gather(2, best.add(1).clamp_(0, ndisp - 1)).to(ScalarType.Float32);
                var n = cost.gather(2, best.sub(1).clamp_(0, ndisp - 1)).to(ScalarType.Float32);
                var c = minCost.to(ScalarType.Float32);
                var denom = p.add(n).sub(c.mul(2)).add(p.sub(n).abs());
                var inner = best.gt(0).logical_and(best.lt(ndisp - 1)).logical_and(denom.ne(0));
                var offset = p.sub(n).div(denom.masked_fill(denom.eq(0), 1)).masked_fill(inner.logical_not(), 0);
                disparity = disparity.add(offset);
            }
            if (uniquenessRatio > 0)
            {
                // The least cost more than one slot away from the best: blank the best and its neighbours in place
                // (the volume is not needed after this) and take the minimum again.
                var blank = full_like(best, costType == ScalarType.Int16 ? short.MaxValue : int.MaxValue, costType);
                foreach (var offset in new[] { -1, 0, 1 })
                    cost.scatter_(2, best.add(offset).clamp_(0, ndisp - 1), blank);
                var others = cost.amin([2], keepdim: true).to(ScalarType.Int32);
                var m = minCost.to(ScalarType.Int32);
                var threshold = m.add(m.mul(uniquenessRatio).div(100, rounding_mode: RoundingMode.floor));
                valid = valid.logical_and(others.gt(threshold));
            }
            disparity = disparity.masked_fill(valid.logical_not(), -1f).permute(0, 2, 1, 3); // (B,1,rowsOut,colsOut)
            result[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(ya, yb), TensorIndex.Slice(x0, x1)] = disparity;
        }
        return result.MoveToOuterDisposeScope();
    }

    /// Gray [0,1] to integer values 0..255 as the integer type of the costs.
    private static Tensor Quantise(Tensor gray, ScalarType type) => gray.mul(255f).round_().clamp_(0, 255).to(type);

    /// OpenCV's prefilterXSobel on integer (B,1,H,W) images: v = [1 2 1] vertically (reflect-101 rows), then
    /// v(x+1) - v(x-1), clipped to [-cap, cap] and offset by cap. The first and last columns, and the last row when
    /// H is odd (OpenCV processes rows in pairs), are set to cap: no response.
    private static Tensor PrefilterXSobel(Tensor g, int cap)
    {
        long h = g.shape[2], w = g.shape[3];
        var padded = Padding.Pad(g, 0, 0, 1, 1, Border.Reflect101);
        var v = padded.narrow(2, 0, h).add(padded.narrow(2, 1, h).mul(2)).add_(padded.narrow(2, 2, h));
        var dx = v.narrow(3, 2, w - 2).sub(v.narrow(3, 0, w - 2)).clamp_(-cap, cap).add_(cap);
        var result = full_like(g, cap);
        result[TensorIndex.Ellipsis, TensorIndex.Slice(1, w - 1)] = dx;
        if (h % 2 == 1) result[TensorIndex.Colon, TensorIndex.Colon, h - 1] = cap;
        return result;
    }

    /// Sums of every run of `size` consecutive values along one axis (a "valid" box filter: the axis shrinks by
    /// size - 1), by binary doubling: sums over 2, 4, 8, ... values are each the sum of two shifted views of the
    /// previous ones, and the runs for the set bits of size are added at their offsets. That is log2(size) +
    /// popcount(size) passes of contiguous, vectorised adds, exact in integers; libtorch's CPU cumsum along an
    /// outer axis is several times slower.
    private static Tensor WindowSum(Tensor x, int axis, int size)
    {
        var n = x.shape[axis];
        var m = n - size + 1;
        Tensor? result = null;
        long offset = 0;
        var power = x;
        for (var width = 1; ; width *= 2)
        {
            if ((size & width) != 0)
            {
                var part = power.narrow(axis, offset, m);
                result = result is null ? part.clone() : result.add_(part);
                offset += width;
            }
            if (width * 2 > size) break;
            var length = power.shape[axis] - width;
            power = power.narrow(axis, 0, length).add(power.narrow(axis, width, length));
        }
        return result!;
    }

    /// Depth Z = focalPx * baselineM / d from disparity d in pixels: (B,1,H,W) float32 in the unit of the baseline
    /// (metres for baselineM), 0 where the disparity is not positive (no match, or a point at infinity).
    public static Tensor DisparityToDepth(Tensor disparity, double focalPx, double baselineM)
    {
        Guard.Images(disparity, nameof(disparity), channels: 1);
        Guard.Positive(focalPx, nameof(focalPx));
        Guard.Positive(baselineM, nameof(baselineM));
        using var scope = NewDisposeScope();
        var positive = disparity.gt(0);
        var safe = disparity.masked_fill(positive.logical_not(), 1f);
        var depth = safe.reciprocal().mul(focalPx * baselineM).masked_fill(positive.logical_not(), 0f);
        return depth.MoveToOuterDisposeScope();
    }

    /// Back-projects a depth map (B,1,H,W) through a pinhole camera with focal lengths fx, fy and principal point
    /// (cx, cy), all in pixels: pixel (u, v) at depth Z becomes ((u - cx) Z / fx, (v - cy) Z / fy, Z).
    /// Returns the point cloud (B, H*W, 3) float32, row by row (point i is pixel (i % W, i / W)); pixels without
    /// depth (Z = 0) give (0,0,0), which WritePly leaves out. PointColors gives the matching colours.
    public static Tensor BackProject(Tensor depth, double fx, double fy, double cx, double cy)
    {
        Guard.Images(depth, nameof(depth), channels: 1);
        Guard.Positive(fx, nameof(fx));
        Guard.Positive(fy, nameof(fy));
        if (!double.IsFinite(cx)) throw new ArgumentOutOfRangeException(nameof(cx), cx, "cx must be finite.");
        if (!double.IsFinite(cy)) throw new ArgumentOutOfRangeException(nameof(cy), cy, "cy must be finite.");
        using var scope = NewDisposeScope();
        long b = depth.shape[0], h = depth.shape[2], w = depth.shape[3];
        var z = depth[TensorIndex.Colon, 0]; // (B,H,W)
        var u = arange(w, ScalarType.Float32, depth.device).sub((float)cx).div((float)fx).reshape(1, 1, w);
        var v = arange(h, ScalarType.Float32, depth.device).sub((float)cy).div((float)fy).reshape(1, h, 1);
        var points = Geometry.Geometry.StackLast([z.mul(u), z.mul(v), z]).reshape(b, h * w, 3);
        return points.MoveToOuterDisposeScope();
    }

    /// The colours of (B,C,H,W) images as (B, H*W, C), in the order of BackProject's points. For WritePly a gray
    /// image needs three channels: images.expand(-1, 3, -1, -1).
    public static Tensor PointColors(Tensor images)
    {
        Guard.Images(images);
        return images.flatten(2).transpose(1, 2).contiguous();
    }

    /// Writes one point cloud as an ASCII PLY file: points (N,3) or (1,N,3), optional colors of the same shape in
    /// [0,1] (written as 8-bit red, green, blue). With skipInvalid, points with a non-finite coordinate or Z not
    /// positive (no depth) are left out. The file is written to a temporary name beside `path` and then moved over
    /// it, so a reader never sees half a file. Reads the tensors to the CPU: this is output, not a kernel.
    public static void WritePly(string path, Tensor points, Tensor? colors = null, bool skipInvalid = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        float[] xyz;
        byte[]? rgb = null;
        using (NewDisposeScope())
        {
            var p = Cloud(points, nameof(points));
            var c = colors is null ? null : Cloud(colors, nameof(colors));
            if (c is not null && c.shape[0] != p.shape[0])
                throw new ArgumentException($"colors must have one row per point: {p.shape[0]} points but {c.shape[0]} colours.", nameof(colors));
            xyz = p.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            if (c is not null)
                rgb = c.to(ScalarType.Float32).mul(255f).round().clamp(0, 255).to(ScalarType.Byte).cpu().contiguous().data<byte>().ToArray();
        }
        var n = xyz.Length / 3;
        var keep = new List<int>(n);
        for (var i = 0; i < n; i++)
        {
            float x = xyz[3 * i], y = xyz[3 * i + 1], z = xyz[3 * i + 2];
            if (!skipInvalid || (float.IsFinite(x) && float.IsFinite(y) && float.IsFinite(z) && z > 0)) keep.Add(i);
        }

        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var writer = new StreamWriter(temporary, false, new UTF8Encoding(false)) { NewLine = "\n" })
            {
                writer.WriteLine("ply");
                writer.WriteLine("format ascii 1.0");
                writer.WriteLine("comment written by CvNotebooks.Stereo.WritePly");
                writer.WriteLine($"element vertex {keep.Count}");
                writer.WriteLine("property float x");
                writer.WriteLine("property float y");
                writer.WriteLine("property float z");
                if (rgb is not null)
                {
                    writer.WriteLine("property uchar red");
                    writer.WriteLine("property uchar green");
                    writer.WriteLine("property uchar blue");
                }
                writer.WriteLine("end_header");
                var line = new StringBuilder();
                foreach (var i in keep)
                {
                    line.Clear();
                    line.Append(xyz[3 * i].ToString("R", CultureInfo.InvariantCulture)).Append(' ')
                        .Append(xyz[3 * i + 1].ToString("R", CultureInfo.InvariantCulture)).Append(' ')
                        .Append(xyz[3 * i + 2].ToString("R", CultureInfo.InvariantCulture));
                    if (rgb is not null)
                        line.Append(' ').Append(rgb[3 * i]).Append(' ').Append(rgb[3 * i + 1]).Append(' ').Append(rgb[3 * i + 2]);
                    writer.WriteLine(line);
                }
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// Reads an ASCII PLY point cloud (as WritePly writes, or any ASCII PLY whose vertices have x, y, z and
    /// optionally red, green, blue): points (N,3) float32 and colours (N,3) float32 in [0,1], or null.
    public static (Tensor Points, Tensor? Colors) ReadPly(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var reader = new StreamReader(path);
        if (reader.ReadLine()?.Trim() != "ply") throw new FormatException($"{path} is not a PLY file (it must start with 'ply').");
        var count = -1;
        var properties = new List<string>();
        var inVertex = false;
        string? line;
        while ((line = reader.ReadLine()) is not null && line.Trim() != "end_header")
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || parts[0] == "comment") continue;
            if (parts[0] == "format" && (parts.Length < 2 || parts[1] != "ascii"))
                throw new FormatException($"{path} is {string.Join(' ', parts.Skip(1))}; only ASCII PLY is read.");
            if (parts[0] == "element")
            {
                inVertex = parts.Length >= 3 && parts[1] == "vertex";
                if (inVertex) count = int.Parse(parts[2], CultureInfo.InvariantCulture);
            }
            else if (parts[0] == "property" && inVertex) properties.Add(parts[^1]);
        }
        if (line is null) throw new FormatException($"{path} has no end_header line.");
        if (count < 0) throw new FormatException($"{path} declares no vertex element.");
        int ix = properties.IndexOf("x"), iy = properties.IndexOf("y"), iz = properties.IndexOf("z");
        int ir = properties.IndexOf("red"), ig = properties.IndexOf("green"), ib = properties.IndexOf("blue");
        if (ix < 0 || iy < 0 || iz < 0) throw new FormatException($"{path}: vertices need x, y and z properties; found {string.Join(", ", properties)}.");
        var hasColor = ir >= 0 && ig >= 0 && ib >= 0;
        var xyz = new float[count * 3];
        var rgb = hasColor ? new float[count * 3] : null;
        for (var i = 0; i < count; i++)
        {
            var row = reader.ReadLine() ?? throw new FormatException($"{path} ends after {i} of {count} vertices.");
            var v = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (v.Length < properties.Count) throw new FormatException($"{path}: vertex {i} has {v.Length} values; expected {properties.Count}.");
            xyz[3 * i] = float.Parse(v[ix], CultureInfo.InvariantCulture);
            xyz[3 * i + 1] = float.Parse(v[iy], CultureInfo.InvariantCulture);
            xyz[3 * i + 2] = float.Parse(v[iz], CultureInfo.InvariantCulture);
            if (rgb is not null)
            {
                rgb[3 * i] = float.Parse(v[ir], CultureInfo.InvariantCulture) / 255f;
                rgb[3 * i + 1] = float.Parse(v[ig], CultureInfo.InvariantCulture) / 255f;
                rgb[3 * i + 2] = float.Parse(v[ib], CultureInfo.InvariantCulture) / 255f;
            }
        }
        var points = tensor(xyz, [count, 3]);
        var colors = rgb is null ? null : tensor(rgb, [count, 3]);
        return (points, colors);
    }

    /// (N,3) or (1,N,3) to (N,3).
    private static Tensor Cloud(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        var ok = (t.dim() == 2 && t.shape[1] == 3) || (t.dim() == 3 && t.shape[0] == 1 && t.shape[2] == 3);
        if (!ok)
            throw new ArgumentException($"{name} must have shape (N,3) or (1,N,3); got {Guard.Shape(t)}. For a batch, write one cloud at a time: {name}[i].", name);
        return t.dim() == 3 ? t[0] : t;
    }
}
