using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Geometry;

/// How a resampling kernel reads between pixels; names and meanings as OpenCV's InterpolationFlags.
public enum Interpolation
{
    /// The nearest source pixel (INTER_NEAREST). Exact: no new values are made.
    Nearest,
    /// Weighted mean of the 2x2 nearest source pixels (INTER_LINEAR).
    Bilinear,
    /// Mean of the source pixels a destination pixel covers (INTER_AREA): the right choice for shrinking,
    /// because every source pixel contributes and nothing aliases. Resize only.
    Area,
}

/// Which way Flip mirrors: OpenCV's flipCode 1, 0 and -1 (named apart from OpenCvSharp.FlipMode so both namespaces can be imported).
public enum FlipDirection
{
    /// Left and right swap (mirror about the vertical axis; Cv2.Flip with FlipMode.Y, flipCode 1).
    Horizontal,
    /// Top and bottom swap (mirror about the horizontal axis; flipCode 0).
    Vertical,
    /// Both: the same as a rotation by 180 degrees (flipCode -1).
    Both,
}

/// Geometric transforms of (B,C,H,W) float32 batches: resize, flip, rotate, affine and perspective warps, and the
/// Gaussian pyramid. Each matches its OpenCV function (tests state the tolerance) and stays on the device it is given.
///
/// Coordinates follow OpenCV: pixel (x, y) is the centre of column x, row y, so the image spans
/// [-0.5, W-0.5] x [-0.5, H-0.5]. Matrices map source to destination, as in Cv2.WarpAffine and
/// Cv2.WarpPerspective, unless inverseMap says they already map destination to source.
///
/// Speed (DESIGN.md): libtorch's CPU convolutions are the wrong tool for small filters, so resizing gathers rows and
/// columns and weights them (2 taps per axis for Bilinear, about scale + 1 for Area), the pyramid adds shifted
/// views of the even and odd rows and columns, and warps use grid_sample, one fused pass on CPU and CUDA alike.
/// On a 1920x1080 RGB image with one CPU thread this is 3-8x OpenCV's float32 time (warps about 1.2x); most of
/// the cost is fresh memory for each intermediate, so the kernels write in place where they can.
public static class Geometry
{
    // ---------------------------------------------------------------- resize

    /// Resizes every image of the batch to height x width, like Cv2.Resize(src, new Size(width, height), 0, 0, interpolation).
    /// Nearest takes source pixel floor(x * W/width) (INTER_NEAREST, exact). Bilinear samples at half-pixel centres,
    /// x_src = (x + 0.5) * W/width - 0.5, clamped at the borders (INTER_LINEAR). Area averages the source pixels
    /// each destination pixel covers, with fractional weights at the edges of a cell (INTER_AREA); when enlarging,
    /// Area behaves as OpenCV's does: bilinear with weights that keep pixel edges sharp.
    /// The work is separable: per axis, a few gathers of rows (or columns) weighted by per-row (per-column) weights.
    public static Tensor Resize(Tensor images, int height, int width, Interpolation interpolation = Interpolation.Bilinear)
    {
        Guard.Images(images);
        if (height < 1) throw new ArgumentOutOfRangeException(nameof(height), height, $"height must be at least 1; got {height}.");
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, $"width must be at least 1; got {width}.");
        if (!Enum.IsDefined(interpolation)) throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "unknown interpolation");
        long srcH = images.shape[2], srcW = images.shape[3];
        using var scope = NewDisposeScope();
        if (srcH == height && srcW == width) return images.clone().MoveToOuterDisposeScope();

        // OpenCV's scales: source pixels per destination pixel.
        double scaleY = (double)srcH / height, scaleX = (double)srcW / width;
        Taps tapsY, tapsX;
        switch (interpolation)
        {
            case Interpolation.Nearest:
                tapsY = NearestTaps(srcH, height);
                tapsX = NearestTaps(srcW, width);
                break;
            case Interpolation.Area when scaleX >= 1 && scaleY >= 1:
                tapsY = AreaTaps(srcH, height, scaleY);
                tapsX = AreaTaps(srcW, width, scaleX);
                break;
            default:
                var areaMode = interpolation == Interpolation.Area;
                tapsY = LinearTaps(srcH, height, areaMode);
                tapsX = LinearTaps(srcW, width, areaMode);
                break;
        }

        // Order the axes by cost: gathering columns costs about three times as much per value as selecting rows
        // (measured on the CPU), so columns are resampled while the data is smallest.
        var rowsFirst = (double)height * srcW + 3.0 * height * width <= 3.0 * srcH * width + (double)height * width;
        var result = rowsFirst
            ? tapsX.Apply(tapsY.Apply(images, 2), 3)
            : tapsY.Apply(tapsX.Apply(images, 3), 2);
        return result.MoveToOuterDisposeScope();
    }

    /// One axis of a separable resampling: for destination index i, the sum over k of Weight[k][i] * src[Index[k][i]].
    /// Rows (axis 2) are gathered with index_select, which copies whole rows; columns (axis 3) with gather and an
    /// expanded index, which libtorch's CPU kernel runs about 8x faster than index_select along the last axis.
    private sealed class Taps(long[][] index, float[][] weight, bool unitWeights = false)
    {
        public Tensor Apply(Tensor x, int axis)
        {
            var n = index[0].Length;
            long[] wshape = axis == 2 ? [n, 1] : [n];
            Tensor? acc = null;
            for (var k = 0; k < index.Length; k++)
            {
                var idx = tensor(index[k], device: x.device);
                var gathered = axis == 2
                    ? x.index_select(2, idx)
                    : x.gather(3, idx.reshape(1, 1, 1, n).expand(x.shape[0], x.shape[1], x.shape[2], n));
                if (unitWeights) return gathered;
                var w = tensor(weight[k], device: x.device).reshape(wshape);
                if (acc is null) acc = gathered.mul_(w);
                else acc.addcmul_(gathered, w, 1);
            }
            return acc!;
        }
    }

    /// INTER_NEAREST: sx = floor(dx * (1 / (dsize/ssize))), computed in double exactly as OpenCV's resizeNN does.
    private static Taps NearestTaps(long src, long dst)
    {
        var inverse = 1.0 / ((double)dst / src);
        var idx = new long[dst];
        for (long d = 0; d < dst; d++) idx[d] = Math.Min((long)Math.Floor(d * inverse), src - 1);
        return new Taps([idx], [new float[dst]], unitWeights: true);
    }

    /// INTER_LINEAR (half-pixel centres, clamped) or, with areaMode, OpenCV's INTER_AREA for enlarging:
    /// sx = floor(dx * scale), fx = (dx + 1) - (sx + 1) / scale, taken modulo 1 and 0 when not positive.
    private static Taps LinearTaps(long src, long dst, bool areaMode)
    {
        var scale = (double)src / dst;
        var inv = (double)dst / src;
        var i0 = new long[dst];
        var i1 = new long[dst];
        var w0 = new float[dst];
        var w1 = new float[dst];
        for (long d = 0; d < dst; d++)
        {
            long sx;
            float fx;
            if (!areaMode)
            {
                fx = (float)((d + 0.5) * scale - 0.5);
                sx = (long)Math.Floor(fx);
                fx -= sx;
            }
            else
            {
                sx = (long)Math.Floor(d * scale);
                fx = (float)((d + 1) - (sx + 1) * inv);
                fx = fx <= 0 ? 0f : fx - MathF.Floor(fx);
            }
            if (sx < 0) { fx = 0; sx = 0; }
            if (sx >= src - 1) { fx = 0; sx = src - 1; }
            i0[d] = sx;
            i1[d] = Math.Min(sx + 1, src - 1);
            w0[d] = 1f - fx;
            w1[d] = fx;
        }
        return new Taps([i0, i1], [w0, w1]);
    }

    /// INTER_AREA for shrinking, as OpenCV's computeResizeAreaTab: destination cell [d*scale, (d+1)*scale)
    /// covers whole source pixels (weight 1/cell) and partial ones at either end (weight = covered fraction / cell).
    private static Taps AreaTaps(long src, long dst, double scale)
    {
        var lists = new List<(long Index, float Weight)>[dst];
        var k = 1;
        for (long d = 0; d < dst; d++)
        {
            var list = lists[d] = [];
            var fsx1 = d * scale;
            var fsx2 = fsx1 + scale;
            var cellWidth = Math.Min(scale, src - fsx1);
            var sx1 = (long)Math.Ceiling(fsx1);
            var sx2 = (long)Math.Floor(fsx2);
            sx2 = Math.Min(sx2, src - 1);
            sx1 = Math.Min(sx1, sx2);
            if (sx1 - fsx1 > 1e-3) list.Add((sx1 - 1, (float)((sx1 - fsx1) / cellWidth)));
            for (var sx = sx1; sx < sx2; sx++) list.Add((sx, (float)(1.0 / cellWidth)));
            if (fsx2 - sx2 > 1e-3) list.Add((sx2, (float)(Math.Min(Math.Min(fsx2 - sx2, 1.0), cellWidth) / cellWidth)));
            k = Math.Max(k, list.Count);
        }
        var index = new long[k][];
        var weight = new float[k][];
        for (var t = 0; t < k; t++)
        {
            index[t] = new long[dst];
            weight[t] = new float[dst];
            for (long d = 0; d < dst; d++)
            {
                var list = lists[d];
                // Cells with fewer taps repeat their last source pixel with weight 0.
                (index[t][d], weight[t][d]) = t < list.Count ? list[t] : (list.Count > 0 ? list[^1].Index : 0, 0f);
            }
        }
        return new Taps(index, weight);
    }

    // ---------------------------------------------------------------- flip

    /// Mirrors every image of the batch, exactly as Cv2.Flip (a copy with the axes reversed; no arithmetic).
    public static Tensor Flip(Tensor images, FlipDirection direction)
    {
        Guard.Images(images);
        return direction switch
        {
            FlipDirection.Horizontal => images.flip(3),
            FlipDirection.Vertical => images.flip(2),
            FlipDirection.Both => images.flip(2, 3),
            _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, "direction must be Horizontal, Vertical or Both"),
        };
    }

    // ---------------------------------------------------------------- rotation and warps

    /// The 2x3 matrix of Cv2.GetRotationMatrix2D: rotation by angleDegrees counter-clockwise (as seen on screen,
    /// with y pointing down) about (centerX, centerY), then isotropic scaling by scale.
    /// [[a, b, (1-a)cx - b cy], [-b, a, b cx + (1-a)cy]] with a = scale cos(angle), b = scale sin(angle).
    public static double[,] RotationMatrix(double centerX, double centerY, double angleDegrees, double scale = 1)
    {
        var angle = angleDegrees * Math.PI / 180;
        double a = Math.Cos(angle) * scale, b = Math.Sin(angle) * scale;
        return new[,]
        {
            { a, b, (1 - a) * centerX - b * centerY },
            { -b, a, b * centerX + (1 - a) * centerY },
        };
    }

    /// Rotates every image by angleDegrees counter-clockwise about center (default: the true centre of the pixel
    /// grid, ((W-1)/2, (H-1)/2), so a 180 degree turn is exactly Flip Both) and scales by scale; same output size.
    /// The same as Cv2.WarpAffine(src, Cv2.GetRotationMatrix2D(center, angle, scale), src.Size()).
    public static Tensor Rotate(Tensor images, double angleDegrees, (double X, double Y)? center = null, double scale = 1,
        Interpolation interpolation = Interpolation.Bilinear, Border border = Border.Constant)
    {
        Guard.Images(images);
        Guard.Positive(scale, nameof(scale));
        if (!double.IsFinite(angleDegrees)) throw new ArgumentOutOfRangeException(nameof(angleDegrees), angleDegrees, "angleDegrees must be a finite number.");
        long h = images.shape[2], w = images.shape[3];
        var (cx, cy) = center ?? ((w - 1) / 2.0, (h - 1) / 2.0);
        return WarpAffine(images, RotationMatrix(cx, cy, angleDegrees, scale), (int)h, (int)w, interpolation, border);
    }

    /// Affine warp like Cv2.WarpAffine(src, matrix, new Size(width, height), interpolation, border): each destination
    /// pixel p reads the source at inverse(matrix) * p. matrix is 2x3 and maps source to destination, or destination
    /// to source with inverseMap (WARP_INVERSE_MAP).
    public static Tensor WarpAffine(Tensor images, double[,] matrix, int height, int width,
        Interpolation interpolation = Interpolation.Bilinear, Border border = Border.Constant, bool inverseMap = false)
    {
        Guard.Images(images);
        var m = HostMatrix(matrix, 2, nameof(matrix));
        using var scope = NewDisposeScope();
        var t = tensor(m, [2, 3], ScalarType.Float64, images.device);
        return WarpAffine(images, t, height, width, interpolation, border, inverseMap).MoveToOuterDisposeScope();
    }

    /// Affine warp with the matrix as a tensor: (2,3) for the whole batch or (B,2,3), one per image, float32 or float64,
    /// on the images' device. See the double[,] overload.
    public static Tensor WarpAffine(Tensor images, Tensor matrix, int height, int width,
        Interpolation interpolation = Interpolation.Bilinear, Border border = Border.Constant, bool inverseMap = false)
    {
        Guard.Images(images);
        CheckWarp(images, matrix, 2, height, width, interpolation, border);
        using var scope = NewDisposeScope();
        var m = matrix.to(ScalarType.Float64);
        if (m.dim() == 2) m = m.unsqueeze(0);
        var inverse = inverseMap ? WithLastRow(m) : InvertAffine(m);
        var result = Warp(images, inverse, height, width, interpolation, border, affine: true);
        return result.MoveToOuterDisposeScope();
    }

    /// Perspective warp like Cv2.WarpPerspective(src, matrix, new Size(width, height), interpolation, border): each
    /// destination pixel p reads the source at the projective point inverse(matrix) * (x, y, 1). matrix is 3x3 and
    /// maps source to destination, or destination to source with inverseMap.
    public static Tensor WarpPerspective(Tensor images, double[,] matrix, int height, int width,
        Interpolation interpolation = Interpolation.Bilinear, Border border = Border.Constant, bool inverseMap = false)
    {
        Guard.Images(images);
        var m = HostMatrix(matrix, 3, nameof(matrix));
        using var scope = NewDisposeScope();
        var t = tensor(m, [3, 3], ScalarType.Float64, images.device);
        return WarpPerspective(images, t, height, width, interpolation, border, inverseMap).MoveToOuterDisposeScope();
    }

    /// Perspective warp with the matrix as a tensor: (3,3) for the whole batch or (B,3,3), float32 or float64, on the
    /// images' device (a homography from Homography.FindRansac can be passed as it is). See the double[,] overload.
    public static Tensor WarpPerspective(Tensor images, Tensor matrix, int height, int width,
        Interpolation interpolation = Interpolation.Bilinear, Border border = Border.Constant, bool inverseMap = false)
    {
        Guard.Images(images);
        CheckWarp(images, matrix, 3, height, width, interpolation, border);
        using var scope = NewDisposeScope();
        var m = matrix.to(ScalarType.Float64);
        if (m.dim() == 2) m = m.unsqueeze(0);
        var inverse = inverseMap ? m : Invert(m);
        var result = Warp(images, inverse, height, width, interpolation, border, affine: false);
        return result.MoveToOuterDisposeScope();
    }

    private static void CheckWarp(Tensor images, Tensor matrix, int rows, int height, int width, Interpolation interpolation, Border border)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var ok = matrix.dim() is 2 or 3 && matrix.shape[^2] == rows && matrix.shape[^1] == 3;
        if (!ok)
            throw new ArgumentException($"matrix must have shape ({rows},3) or (B,{rows},3); got {Guard.Shape(matrix)}.", nameof(matrix));
        if (matrix.dim() == 3 && matrix.shape[0] != images.shape[0] && matrix.shape[0] != 1)
            throw new ArgumentException($"matrix holds {matrix.shape[0]} transforms but images holds {images.shape[0]} images; give one matrix or one per image.", nameof(matrix));
        if (matrix.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"matrix must be float32 or float64; got {matrix.dtype}.", nameof(matrix));
        Guard.SameDevice(images, matrix, "images", "matrix");
        if (height < 1) throw new ArgumentOutOfRangeException(nameof(height), height, $"height must be at least 1; got {height}.");
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, $"width must be at least 1; got {width}.");
        if (interpolation is not (Interpolation.Nearest or Interpolation.Bilinear))
            throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "warps support Interpolation.Nearest and Interpolation.Bilinear; use Resize for Area.");
        if (border is not (Border.Constant or Border.Replicate))
            throw new ArgumentOutOfRangeException(nameof(border), border, "warps support Border.Constant (0 outside) and Border.Replicate.");
    }

    private static double[] HostMatrix(double[,] matrix, int rows, string name)
    {
        ArgumentNullException.ThrowIfNull(matrix, name);
        if (matrix.GetLength(0) != rows || matrix.GetLength(1) != 3)
            throw new ArgumentException($"{name} must be {rows}x3; got {matrix.GetLength(0)}x{matrix.GetLength(1)}.", name);
        var flat = new double[rows * 3];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < 3; j++)
            {
                if (!double.IsFinite(matrix[i, j])) throw new ArgumentException($"{name}[{i},{j}] is {matrix[i, j]}; every entry must be finite.", name);
                flat[i * 3 + j] = matrix[i, j];
            }
        return flat;
    }

    /// Inverse of (B,2,3) float64 affine matrices, with the operations in the order of OpenCV's
    /// invertAffineTransform, so nearest-neighbour warps pick bit-for-bit the same source pixels. Returned as
    /// (B,3,3) with the row [0,0,1] so Coefficients reads it like a homography. A singular matrix is rejected
    /// (this reads one flag).
    private static Tensor InvertAffine(Tensor m)
    {
        Tensor E(int r, int c) => m[TensorIndex.Colon, r, c];
        var det = E(0, 0).mul(E(1, 1)).sub(E(0, 1).mul(E(1, 0)));
        if (det.eq(0).any().item<bool>() || !det.isfinite().all().item<bool>())
            throw new ArgumentException("matrix is singular (its 2x2 part has determinant 0), so the warp has no inverse.", "matrix");
        var d = det.reciprocal();
        var a11 = E(1, 1).mul(d);
        var a22 = E(0, 0).mul(d);
        var a12 = E(0, 1).mul(d.neg());
        var a21 = E(1, 0).mul(d.neg());
        var b1 = a11.neg().mul(E(0, 2)).sub(a12.mul(E(1, 2)));
        var b2 = a21.neg().mul(E(0, 2)).sub(a22.mul(E(1, 2)));
        var zero = zeros_like(d);
        return stack([a11, a12, b1, a21, a22, b2, zero, zero, ones_like(d)], 1).reshape(-1, 3, 3);
    }

    /// Inverse of (B,3,3) float64 matrices; a singular one is rejected with a clear message (this reads one flag).
    /// (linalg.inv_ex is avoided: in TorchSharp 0.107 it does not return the inverse.)
    private static Tensor Invert(Tensor m)
    {
        var det = linalg.det(m);
        if (det.eq(0).any().item<bool>() || !det.isfinite().all().item<bool>())
            throw new ArgumentException("matrix is singular (determinant 0), so the warp has no inverse; check it, or pass the destination-to-source map with inverseMap: true.", "matrix");
        return linalg.inv(m);
    }

    /// (B,2,3) to (B,3,3) with the row [0,0,1].
    private static Tensor WithLastRow(Tensor m)
    {
        var last = zeros([m.shape[0], 1, 3], m.dtype, m.device);
        last[TensorIndex.Colon, 0, 2] = 1;
        return cat([m, last], 1);
    }

    /// Resamples images at the source points inverse * (x, y, 1) of every destination pixel; inverse is (B,3,3) float64
    /// (B may be 1 for the whole batch). Each coordinate is a sum of a per-column and a per-row term, so only these
    /// 1-D terms are computed per matrix entry and one broadcast add makes each full-size coordinate plane.
    private static Tensor Warp(Tensor images, Tensor inverse, int height, int width, Interpolation interpolation, Border border, bool affine)
    {
        long h = images.shape[2], w = images.shape[3];
        var x = arange(width, ScalarType.Float64, images.device).reshape(1, 1, width);
        var y = arange(height, ScalarType.Float64, images.device).reshape(1, height, 1);
        if (interpolation == Interpolation.Nearest)
        {
            var c = Coefficients(inverse);
            Tensor ix, iy;
            if (affine)
            {
                // OpenCV's warpAffine works in fixed point with 10 fractional bits: X = (round(1024 (m1 y + m2)) + 512
                // + round(1024 m0 x)) >> 10. The same integer arithmetic picks the same source pixel, also where a
                // coordinate falls exactly on .5.
                const double abScale = 1024;
                Tensor Fixed(Tensor t) => t.mul(abScale).round().to(ScalarType.Int64);
                ix = Fixed(c[1].mul(y).add(c[2])).add((long)abScale / 2).add(Fixed(c[0].mul(x))).div(1024, rounding_mode: RoundingMode.floor);
                iy = Fixed(c[4].mul(y).add(c[5])).add((long)abScale / 2).add(Fixed(c[3].mul(x))).div(1024, rounding_mode: RoundingMode.floor);
            }
            else
            {
                // OpenCV's cvRound of the projected point: round half to even, as torch.round. Float64 as OpenCV.
                var wh = c[6].mul(x).add(c[7].mul(y).add(c[8]));
                var invW = wh.reciprocal_().nan_to_num_(0, 0, 0); // OpenCV: W = W ? 1/W : 0
                ix = c[0].mul(x).add(c[1].mul(y).add(c[2])).mul_(invW).round_().clamp_(-1, w).to(ScalarType.Int64);
                iy = c[3].mul(x).add(c[4].mul(y).add(c[5])).mul_(invW).round_().clamp_(-1, h).to(ScalarType.Int64);
            }
            return GatherNearest(images, ix, iy, border);
        }

        // Bilinear: fold grid_sample's normalisation into the matrix. With align_corners false, grid value -1 is the
        // left edge of pixel 0, so source pixel sx sits at (2 sx + 1) / W - 1: a linear map N applied after inverse.
        var n = tensor(new double[] { 2.0 / w, 0, 1.0 / w - 1, 0, 2.0 / h, 1.0 / h - 1, 0, 0, 1 }, [1, 3, 3], ScalarType.Float64, images.device);
        var cf = Coefficients(n.matmul(inverse).to(ScalarType.Float32));
        var xf = x.to(ScalarType.Float32);
        var yf = y.to(ScalarType.Float32);
        var gx = cf[0].mul(xf).add(cf[1].mul(yf).add(cf[2]));
        var gy = cf[3].mul(xf).add(cf[4].mul(yf).add(cf[5]));
        if (!affine)
        {
            var invW = cf[6].mul(xf).add(cf[7].mul(yf).add(cf[8])).reciprocal_();
            gx.mul_(invW);
            gy.mul_(invW);
        }
        // Points at infinity (W = 0) become NaN or inf: send them outside, where they take the border value. Far
        // coordinates are clamped just outside the image so grid_sample never converts a huge float to an index.
        var grid = StackLast([gx, gy]).nan_to_num_(3, 3, -3).clamp_(-3, 3);
        if (grid.shape[0] != images.shape[0]) grid = grid.expand(images.shape[0], -1, -1, -1);
        // Zeros padding treats every tap outside as 0, as OpenCV's BORDER_CONSTANT; border padding clamps the
        // coordinate, which for bilinear taps equals BORDER_REPLICATE.
        var padding = border == Border.Replicate ? GridSamplePaddingMode.Border : GridSamplePaddingMode.Zeros;
        return nn.functional.grid_sample(images, grid, GridSampleMode.Bilinear, padding, align_corners: false);
    }

    /// torch.stack(parts, -1) for tensors of equal shape, written as one strided copy per part into a new tensor:
    /// libtorch's CPU stack along the last axis is about 3x slower (DESIGN.md: measure before choosing).
    internal static Tensor StackLast(Tensor[] parts)
    {
        var shape = parts[0].shape.Append(parts.Length).ToArray();
        var result = empty(shape, parts[0].dtype, parts[0].device);
        for (var i = 0; i < parts.Length; i++) result.select(-1, i).copy_(parts[i]);
        return result;
    }

    /// The nine entries of (B,3,3) matrices as (B,1,1) tensors, row by row.
    private static Tensor[] Coefficients(Tensor m)
    {
        var flat = m.reshape(m.shape[0], 9, 1, 1);
        var c = new Tensor[9];
        for (var i = 0; i < 9; i++) c[i] = flat[TensorIndex.Colon, i];
        return c;
    }

    /// Nearest sampling at int64 pixel indices (B',H,W) by one gather over the flattened image; indices outside take 0
    /// (Constant) or the nearest edge pixel (Replicate).
    private static Tensor GatherNearest(Tensor images, Tensor ix, Tensor iy, Border border)
    {
        long b = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        long outH = ix.shape[1], outW = ix.shape[2];
        var inside = border == Border.Constant
            ? ix.ge(0).logical_and_(ix.lt(w)).logical_and_(iy.ge(0)).logical_and_(iy.lt(h))
            : null;
        var flatIndex = iy.clamp(0, h - 1).mul_(w).add_(ix.clamp(0, w - 1));
        var result = images.reshape(b, c, h * w)
            .gather(2, flatIndex.reshape(ix.shape[0], 1, outH * outW).expand(b, c, -1))
            .reshape(b, c, outH, outW);
        if (inside is not null) result = result.mul_(inside.unsqueeze(1).expand(b, c, -1, -1).to(images.dtype));
        return result;
    }

    // ---------------------------------------------------------------- Gaussian pyramid

    private static readonly float[] Pyr5 = [1 / 16f, 4 / 16f, 6 / 16f, 4 / 16f, 1 / 16f];

    /// One level down the Gaussian pyramid, like Cv2.PyrDown: blur with the 5x5 kernel [1 4 6 4 1]/16 (separable,
    /// reflect-101 borders) and keep the even rows and columns; the result is ((H+1)/2, (W+1)/2). Only the kept
    /// rows and columns are computed, each tap a stride-2 view of the image, written into the output in place:
    /// no padded copy of the image is made (large temporaries cost more than the arithmetic on a CPU).
    public static Tensor PyrDown(Tensor images)
    {
        Guard.Images(images);
        using var scope = NewDisposeScope();
        long h = images.shape[2], w = images.shape[3];
        var rows = Down5(images, 2, (h + 1) / 2);
        var result = Down5(rows, 3, (w + 1) / 2);
        return result.MoveToOuterDisposeScope();
    }

    /// out[j] = sum over i of Pyr5[i] * x[reflect101(2j + i - 2)] along one axis.
    private static Tensor Down5(Tensor x, int axis, long outLength)
    {
        var n = x.shape[axis];
        var shape = x.shape.ToArray();
        shape[axis] = outLength;
        var result = empty(shape, x.dtype, x.device);
        // Outputs whose five taps all lie inside: 2j - 2 at least 0 and 2j + 2 at most n - 1. With E = x[0::2] and
        // O = x[1::2], output j is k0 E[j-1] + k1 O[j-1] + k2 E[j] + k3 O[j] + k4 E[j+1]: five shifted views.
        // Along the last axis E and O are made contiguous first: stride-2 reads there are twice as slow.
        long first = 1, last = (n - 3) / 2;
        var count = n >= 5 ? last - first + 1 : 0;
        if (count > 0)
        {
            var even = x.slice(axis, 0, n, 2);
            var odd = x.slice(axis, 1, n, 2);
            if (axis == x.dim() - 1)
            {
                even = even.contiguous();
                odd = odd.contiguous();
            }
            var target = result.narrow(axis, first, count);
            (Tensor Source, long Start)[] taps = [(even, first - 1), (odd, first - 1), (even, first), (odd, first), (even, first + 1)];
            for (var i = 0; i < 5; i++)
            {
                var view = taps[i].Source.narrow(axis, taps[i].Start, count);
                if (i == 0) target.copy_(view).mul_(Pyr5[0]);
                else target.add_(view, alpha: Pyr5[i]);
            }
        }
        // The one or two outputs at each end read reflected rows: a few one-row operations.
        for (long j = 0; j < outLength; j++)
        {
            if (count > 0 && j >= first && j < first + count) continue;
            var target = result.narrow(axis, j, 1);
            target.zero_();
            for (var i = 0; i < 5; i++)
                target.add_(x.narrow(axis, Padding.Map(2 * j + i - 2, n, Border.Reflect101), 1), alpha: Pyr5[i]);
        }
        return result;
    }

    /// One level up the Gaussian pyramid, like Cv2.PyrUp: the image doubled to (2H, 2W) by inserting zeros, then
    /// blurred with 4 x [1 4 6 4 1]/16 per axis (reflect-101 on the doubled image). Written out per axis: even
    /// outputs (p[i-1] + 6 p[i] + p[i+1]) / 8, odd outputs (p[i] + p[i+1]) / 2, where p[-1] = p[1] and p[n] = p[n-1]
    /// (what reflect-101 of the zero-stuffed image amounts to). Each phase is written in place into its
    /// interleaved slots of the output.
    public static Tensor PyrUp(Tensor images)
    {
        Guard.Images(images);
        using var scope = NewDisposeScope();
        var rows = Up2(images, 2);
        var result = Up2(rows, 3);
        return result.MoveToOuterDisposeScope();
    }

    private static Tensor Up2(Tensor x, int axis)
    {
        var n = x.shape[axis];
        var shape = x.shape.ToArray();
        shape[axis] = 2 * n;
        Tensor even, odd, result;
        if (axis == x.dim() - 1)
        {
            // Along the last axis, build both phases contiguously and interleave them with one stack.
            even = x.mul(6f);
            odd = empty_like(x);
            result = null!;
        }
        else
        {
            // Otherwise write each phase in place into its slots of the output viewed as (..., n, 2, ...).
            var split = x.shape.ToList();
            split.Insert(axis + 1, 2);
            result = empty(split.ToArray(), x.dtype, x.device);
            even = result.select(axis + 1, 0).copy_(x).mul_(6f);
            odd = result.select(axis + 1, 1);
        }
        if (n > 1)
        {
            even.narrow(axis, 1, n - 1).add_(x.narrow(axis, 0, n - 1));   // p[i-1]
            even.narrow(axis, 0, n - 1).add_(x.narrow(axis, 1, n - 1));   // p[i+1]
            even.narrow(axis, 0, 1).add_(x.narrow(axis, 1, 1));           // p[-1] = p[1]
            even.narrow(axis, n - 1, 1).add_(x.narrow(axis, n - 1, 1));   // p[n] = p[n-1]
            odd.narrow(axis, 0, n - 1).copy_(x.narrow(axis, 0, n - 1)).add_(x.narrow(axis, 1, n - 1));
            odd.narrow(axis, n - 1, 1).copy_(x.narrow(axis, n - 1, 1)).mul_(2f);
        }
        else
        {
            even.add_(x, alpha: 2f);
            odd.copy_(x).mul_(2f);
        }
        even.mul_(1 / 8f);
        odd.mul_(0.5f);
        if (result is null) return StackLast([even, odd]).reshape(shape);
        return result.reshape(shape);
    }
}
