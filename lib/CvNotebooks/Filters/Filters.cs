using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Filters;

/// Image filters on (B,C,H,W) float32 batches, each defined as its OpenCV namesake (same kernels, same default
/// borders) so a notebook can check it against OpenCV. Every filter is written with shifted views of a padded image
/// (narrow plus element-wise arithmetic) rather than conv2d or pooling: libtorch's CPU convolutions are 30-250x
/// slower than OpenCV for small image filters (DESIGN.md), while shifted views are about 10x faster and run unchanged
/// on CUDA. Results stay on the input's device.
public static class Filters
{
    // ---------------------------------------------------------------- smoothing

    /// Normalised box filter (OpenCV blur): the mean of the kernelSize x kernelSize window around each pixel.
    /// Borders default to OpenCV's reflect-101.
    public static Tensor BoxBlur(Tensor images, int kernelSize, Border border = Border.Reflect101)
    {
        Guard.Images(images, nameof(images));
        Guard.OddSize(kernelSize, nameof(kernelSize));
        if (kernelSize == 1) return images.clone();
        var k = Enumerable.Repeat(1f / kernelSize, kernelSize).ToArray();
        return Separable.Filter(images, k, k, border);
    }

    /// Gaussian blur, separable, reflect-101 borders like OpenCV's GaussianBlur. kernelSize is odd; sigma &lt;= 0
    /// derives sigma from the size as OpenCV's getGaussianKernel does (0.3 ((kernelSize - 1)/2 - 1) + 0.8), and
    /// kernelSize 0 with a positive sigma derives the size from sigma as OpenCV does for float images (8 sigma + 1).
    public static Tensor GaussianBlur(Tensor images, int kernelSize, double sigma = 0, Border border = Border.Reflect101)
    {
        Guard.Images(images, nameof(images));
        kernelSize = GaussianSize(kernelSize, sigma);
        if (kernelSize == 1) return images.clone();
        var k = GaussianKernel(kernelSize, sigma);
        return Separable.Filter(images, k, k, border);
    }

    /// The 1-D Gaussian weights OpenCV's getGaussianKernel returns (summing to 1). For sigma &lt;= 0 and sizes up to
    /// 9, OpenCV uses fixed binomial-like tables ({1/4, 1/2, 1/4} for 3), which are returned here too.
    public static float[] GaussianKernel(int kernelSize, double sigma)
    {
        Guard.OddSize(kernelSize, nameof(kernelSize));
        float[]? table = sigma > 0 ? null : kernelSize switch
        {
            1 => [1f],
            3 => [0.25f, 0.5f, 0.25f],
            5 => [0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f],
            7 => [0.03125f, 0.109375f, 0.21875f, 0.28125f, 0.21875f, 0.109375f, 0.03125f],
            9 => [4 / 256f, 13 / 256f, 30 / 256f, 51 / 256f, 60 / 256f, 51 / 256f, 30 / 256f, 13 / 256f, 4 / 256f],
            _ => null,
        };
        if (table is not null) return table;
        var s = sigma > 0 ? sigma : ((kernelSize - 1) * 0.5 - 1) * 0.3 + 0.8;
        var weights = new double[kernelSize];
        for (var i = 0; i < kernelSize; i++)
        {
            var x = i - (kernelSize - 1) * 0.5;
            weights[i] = Math.Exp(-x * x / (2 * s * s));
        }
        var sum = weights.Sum();
        return weights.Select(w => (float)(w / sum)).ToArray();
    }

    /// Median of each kernelSize x kernelSize window, per channel, with replicated borders as OpenCV's medianBlur.
    /// Exact for any float values (the median is always one of the inputs), computed as a network of element-wise
    /// min/max over shifted views, so nothing is gathered k² times:
    /// 3x3 sorts every vertical triple once (shared by the three windows that contain it) and takes
    /// med3(max of minima, med3 of middles, min of maxima): 18 min/max per pixel.
    /// 5x5 and 7x7 use a sorting network pruned to the median, again over shared sorted columns (MedianNetwork):
    /// about 160 and 480 min/max per pixel. Larger windows gather the k² shifted views in bands of rows and select
    /// the middle value with kthvalue: memory and time grow with k², so prefer small windows or an 8-bit OpenCV
    /// medianBlur (whose histogram method is O(1) per pixel) for very large ones.
    public static Tensor MedianBlur(Tensor images, int kernelSize)
    {
        Guard.Images(images, nameof(images));
        Guard.OddSize(kernelSize, nameof(kernelSize));
        if (kernelSize == 1) return images.clone();
        using var scope = NewDisposeScope();
        var r = kernelSize / 2;
        long h = images.shape[2], w = images.shape[3];
        var padded = Padding.Pad(images, r, r, r, r, Border.Replicate);
        var result = kernelSize switch
        {
            3 => Median3x3(padded, h, w),
            5 or 7 => MedianNetwork.For(kernelSize).Apply(padded, h, w),
            _ => MedianBySelection(padded, kernelSize, h, w),
        };
        return result.MoveToOuterDisposeScope();
    }

    private static Tensor Median3x3(Tensor padded, long h, long w)
    {
        // Sort every vertical triple of the padded image: lo <= mid <= hi, shape (B,C,H,W+2).
        var a = padded.narrow(2, 0, h);
        var b = padded.narrow(2, 1, h);
        var c = padded.narrow(2, 2, h);
        var minAb = minimum(a, b);
        var maxAb = maximum(a, b);
        var lo = minimum(minAb, c);
        var hi = maximum(maxAb, c);
        var mid = maximum(minAb, minimum(maxAb, c));
        Tensor Col(Tensor t, int i) => t.narrow(3, i, w);
        var maxLo = maximum(Col(lo, 0), maximum(Col(lo, 1), Col(lo, 2)));
        var minHi = minimum(Col(hi, 0), minimum(Col(hi, 1), Col(hi, 2)));
        var midMid = Median3(Col(mid, 0), Col(mid, 1), Col(mid, 2));
        return Median3(maxLo, midMid, minHi);
    }

    private static Tensor Median3(Tensor a, Tensor b, Tensor c) =>
        maximum(minimum(a, b), minimum(maximum(a, b), c));

    private static Tensor MedianBySelection(Tensor padded, int k, long h, long w)
    {
        // Stack the k*k shifted views along a trailing axis, a band of rows at a time so the stack stays near 64 MB.
        var perRow = padded.shape[0] * padded.shape[1] * w * k * k;
        var band = Math.Clamp(16L * 1024 * 1024 / Math.Max(1, perRow), 1, h);
        var parts = new List<Tensor>();
        for (long y0 = 0; y0 < h; y0 += band)
        {
            var rows = Math.Min(band, h - y0);
            var views = new List<Tensor>(k * k);
            for (var dy = 0; dy < k; dy++)
                for (var dx = 0; dx < k; dx++)
                    views.Add(padded.narrow(2, y0 + dy, rows).narrow(3, dx, w));
            var stacked = stack(views, -1);
            parts.Add(stacked.kthvalue(k * k / 2 + 1, -1, false).Item1);
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 2);
    }

    /// Bilateral filter, as OpenCV's bilateralFilter on float images: each output pixel is the weighted mean of its
    /// neighbours within a disc of radius diameter/2, weighted by exp(-r²/(2 sigmaSpace²)) for the distance r and by
    /// exp(-d²/(2 sigmaColor²)) for the colour difference d, the sum over channels of absolute differences (OpenCV's
    /// L1 colour distance). Edges survive because pixels across an edge differ in colour and get little weight.
    /// sigmaColor is in the image's units ([0,1]): OpenCV's 8-bit example value 75 is 75/255 ≈ 0.3 here.
    /// diameter &lt;= 0 derives the radius from sigmaSpace (1.5 sigmaSpace), as OpenCV does. Borders reflect-101.
    /// Cost: about 15 element-wise operations per pixel for each of the ~0.8 d² offsets in the disc.
    public static Tensor Bilateral(Tensor images, int diameter, double sigmaColor, double sigmaSpace, Border border = Border.Reflect101)
    {
        Guard.Images(images, nameof(images));
        Guard.Positive(sigmaColor, nameof(sigmaColor));
        Guard.Positive(sigmaSpace, nameof(sigmaSpace));
        var radius = diameter <= 0 ? (int)Math.Round(sigmaSpace * 1.5, MidpointRounding.AwayFromZero) : diameter / 2;
        radius = Math.Max(radius, 1);
        using var scope = NewDisposeScope();
        long h = images.shape[2], w = images.shape[3];
        var padded = Padding.Pad(images, radius, radius, radius, radius, border);
        var colorCoeff = (float)(-0.5 / (sigmaColor * sigmaColor));
        var spaceCoeff = -0.5 / (sigmaSpace * sigmaSpace);
        var numerator = zeros_like(images);
        var denominator = zeros(images.shape[0], 1, h, w, device: images.device);
        for (var dy = -radius; dy <= radius; dy++)
        {
            for (var dx = -radius; dx <= radius; dx++)
            {
                var r2 = (double)dy * dy + (double)dx * dx;
                if (Math.Sqrt(r2) > radius) continue; // a disc, as OpenCV
                var spaceWeight = (float)Math.Exp(r2 * spaceCoeff);
                using var inner = NewDisposeScope();
                var view = padded.narrow(2, radius + dy, h).narrow(3, radius + dx, w);
                var weight = (view - images).abs_().sum(1, keepdim: true)
                    .pow_(2f).mul_(colorCoeff).exp_().mul_(spaceWeight);
                numerator.addcmul_(view, weight, 1);
                denominator.add_(weight);
            }
        }
        return numerator.div_(denominator).MoveToOuterDisposeScope();
    }

    /// Unsharp masking: images + amount (images - GaussianBlur(images)), which boosts detail finer than the blur.
    /// With clamp (the default) the result is clipped to [0,1] so it stays an image.
    public static Tensor UnsharpMask(Tensor images, int kernelSize, double sigma, double amount = 1.0, bool clamp = true)
    {
        Guard.Images(images, nameof(images));
        if (amount < 0 || double.IsNaN(amount) || double.IsInfinity(amount))
            throw new ArgumentOutOfRangeException(nameof(amount), amount, $"amount must be a finite number of at least 0; got {amount}.");
        using var scope = NewDisposeScope();
        var blurred = GaussianBlur(images, kernelSize, sigma);
        var result = images.mul((float)(1 + amount)).sub_(blurred.mul_((float)amount));
        if (clamp) result.clamp_(0f, 1f);
        return result.MoveToOuterDisposeScope();
    }

    // ---------------------------------------------------------------- derivatives

    /// Sobel derivative of order (dx, dy) with a kernelSize x kernelSize kernel (1, 3, 5 or 7; 1 means a 3-tap
    /// difference without smoothing), exactly OpenCV's Sobel kernels, times scale. Output is signed and unnormalised
    /// (a 3x3 first derivative of a [0,1] image lies in [-4,4]); borders reflect-101 by default.
    public static Tensor Sobel(Tensor images, int dx, int dy, int kernelSize = 3, double scale = 1, Border border = Border.Reflect101)
    {
        Guard.Images(images, nameof(images));
        if (kernelSize is not (1 or 3 or 5 or 7))
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, $"kernelSize must be 1, 3, 5 or 7 (OpenCV's Sobel sizes); got {kernelSize}.");
        CheckOrders(dx, dy, kernelSize == 1 ? 2 : kernelSize - 1);
        var (kx, ky) = SobelKernels(dx, dy, kernelSize);
        return Scaled(Separable.Filter(images, kx, ky, border), scale);
    }

    /// Scharr derivative (dx, dy) = (1,0) or (0,1): the 3x3 kernel [-1 0 1] x [3 10 3], rotation-invariant to a much
    /// better approximation than the 3x3 Sobel. Signed, unnormalised (values of a [0,1] image lie in [-16,16]).
    public static Tensor Scharr(Tensor images, int dx, int dy, double scale = 1, Border border = Border.Reflect101)
    {
        Guard.Images(images, nameof(images));
        if (!((dx == 1 && dy == 0) || (dx == 0 && dy == 1)))
            throw new ArgumentException($"Scharr computes one first derivative: (dx, dy) must be (1, 0) or (0, 1); got ({dx}, {dy}).", nameof(dx));
        float[] diff = [-1f, 0f, 1f], smooth = [3f, 10f, 3f];
        var (kx, ky) = dx == 1 ? (diff, smooth) : (smooth, diff);
        return Scaled(Separable.Filter(images, kx, ky, border), scale);
    }

    /// Laplacian d²/dx² + d²/dy², as OpenCV's Laplacian: kernelSize 1 is the 4-neighbour kernel
    /// [0 1 0; 1 -4 1; 0 1 0], 3 is [2 0 2; 0 -8 0; 2 0 2], 5 and 7 add the second-order Sobel derivatives.
    public static Tensor Laplacian(Tensor images, int kernelSize = 1, double scale = 1, Border border = Border.Reflect101)
    {
        Guard.Images(images, nameof(images));
        if (kernelSize is not (1 or 3 or 5 or 7))
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, $"kernelSize must be 1, 3, 5 or 7; got {kernelSize}.");
        using var scope = NewDisposeScope();
        long h = images.shape[2], w = images.shape[3];
        Tensor result;
        if (kernelSize <= 3)
        {
            var p = Padding.Pad(images, 1, 1, 1, 1, border);
            Tensor At(int y, int x) => p.narrow(2, y, h).narrow(3, x, w);
            result = kernelSize == 1
                ? At(0, 1).add(At(2, 1)).add_(At(1, 0)).add_(At(1, 2)).add_(images, alpha: -4f)
                : At(0, 0).add(At(0, 2)).add_(At(2, 0)).add_(At(2, 2)).mul_(2f).add_(images, alpha: -8f);
        }
        else
        {
            var (xx, xy) = SobelKernels(2, 0, kernelSize);
            var (yx, yy) = SobelKernels(0, 2, kernelSize);
            result = Separable.Filter(images, xx, xy, border).add_(Separable.Filter(images, yx, yy, border));
        }
        return Scaled(result, scale).MoveToOuterDisposeScope();
    }

    /// OpenCV's getSobelKernels (unnormalised): the x and y 1-D kernels of the derivative of order (dx, dy).
    internal static (float[] kx, float[] ky) SobelKernels(int dx, int dy, int kernelSize) =>
        (SobelKernel1d(dx, kernelSize == 1 && dx > 0 ? 3 : kernelSize), SobelKernel1d(dy, kernelSize == 1 && dy > 0 ? 3 : kernelSize));

    private static float[] SobelKernel1d(int order, int size)
    {
        if (size == 1) return [1f];
        if (size == 3)
            return order switch { 0 => [1f, 2f, 1f], 1 => [-1f, 0f, 1f], _ => [1f, -2f, 1f] };
        // Binomial smoothing (order 0) convolved with order differences, as OpenCV builds it.
        var k = new int[size + 1];
        k[0] = 1;
        for (var i = 0; i < size - order - 1; i++)
        {
            var old = k[0];
            for (var j = 1; j <= size; j++) { var next = k[j] + k[j - 1]; k[j - 1] = old; old = next; }
        }
        for (var i = 0; i < order; i++)
        {
            var old = -k[0];
            for (var j = 1; j <= size; j++) { var next = k[j - 1] - k[j]; k[j - 1] = old; old = next; }
        }
        return k.Take(size).Select(v => (float)v).ToArray();
    }

    private static void CheckOrders(int dx, int dy, int maxOrder)
    {
        if (dx < 0 || dy < 0 || dx + dy == 0)
            throw new ArgumentException($"derivative orders must be non-negative and not both 0; got dx={dx}, dy={dy}.", nameof(dx));
        if (dx > maxOrder) throw new ArgumentOutOfRangeException(nameof(dx), dx, $"dx must be at most {maxOrder} for this kernel size; got {dx}.");
        if (dy > maxOrder) throw new ArgumentOutOfRangeException(nameof(dy), dy, $"dy must be at most {maxOrder} for this kernel size; got {dy}.");
    }

    private static Tensor Scaled(Tensor t, double scale) => scale == 1 ? t : t.mul_((float)scale);

    // ---------------------------------------------------------------- Canny

    /// Canny edge detector, the full algorithm as OpenCV's Canny with apertureSize 3:
    /// 1. Sobel gradients gx, gy of the image on the 0..255 scale (replicated borders, as OpenCV);
    /// 2. magnitude |gx| + |gy|, or sqrt(gx² + gy²) with l2Gradient;
    /// 3. non-maximum suppression: the gradient direction is quantised to 4 directions (0, 45, 90, 135 degrees,
    ///    split at tan 22.5° as OpenCV does) and a pixel survives only if its magnitude is a maximum along it;
    /// 4. double threshold: survivors above highThreshold are strong, above lowThreshold weak;
    /// 5. hysteresis: weak pixels are kept where they are 8-connected, through weak pixels, to a strong one.
    /// Input: gray (B,1,H,W) float in [0,1]. Thresholds are on the 0..255 scale, as for OpenCV's 8-bit Canny (so
    /// OpenCV's Canny(img, 50, 150) is Canny(images, 50, 150) here); if low > high they are swapped, as OpenCV does.
    /// Output: (B,1,H,W) float, 1 on edges and 0 elsewhere.
    ///
    /// Gradients are snapped to multiples of 1/256 of a grey level, so images that came from 8 bits give exact
    /// integer gradients and ties between equal neighbours (common in 8-bit images) break as in OpenCV's integer code.
    /// Hysteresis is connected-component labelling on the device, not a pixel-by-pixel flood fill: the weak pixels
    /// are gathered into a list, their 8-neighbour links found with shifted indices, components merged by
    /// hooking roots onto smaller neighbouring roots and pointer jumping (Shiloach-Vishkin style), and a component
    /// is kept if it holds a strong pixel. That takes a few rounds (3 for a 1M-pixel serpentine) instead of one
    /// dilation per pixel of the longest edge. Everything stays on the device; each round and each pointer jump
    /// reads one count or flag back (a sync).
    public static Tensor Canny(Tensor images, double lowThreshold, double highThreshold, bool l2Gradient = false)
    {
        Guard.Images(images, nameof(images), channels: 1);
        if (!(lowThreshold >= 0) || double.IsInfinity(lowThreshold))
            throw new ArgumentOutOfRangeException(nameof(lowThreshold), lowThreshold, $"lowThreshold must be a finite number of at least 0 (0..255 scale); got {lowThreshold}.");
        if (!(highThreshold >= 0) || double.IsInfinity(highThreshold))
            throw new ArgumentOutOfRangeException(nameof(highThreshold), highThreshold, $"highThreshold must be a finite number of at least 0 (0..255 scale); got {highThreshold}.");
        if (lowThreshold > highThreshold) (lowThreshold, highThreshold) = (highThreshold, lowThreshold);
        using var scope = NewDisposeScope();
        long b = images.shape[0], h = images.shape[2], w = images.shape[3];

        // 1. Sobel 3x3 on the 0..255 scale, replicated borders; snapped to 1/256 of a grey level.
        var p = Padding.Pad(images * 255f, 1, 1, 1, 1, Border.Replicate);
        var gx = Separable.Along(Separable.Along(p, [1f, 2f, 1f], axis: 2, outLength: h), [-1f, 0f, 1f], axis: 3, outLength: w);
        var gy = Separable.Along(Separable.Along(p, [1f, 2f, 1f], axis: 3, outLength: w), [-1f, 0f, 1f], axis: 2, outLength: h);
        gx = gx.mul_(256f).round_().div_(256f);
        gy = gy.mul_(256f).round_().div_(256f);

        // 2. Magnitude (squared for L2, compared with squared thresholds as OpenCV does).
        var ax = gx.abs();
        var ay = gy.abs();
        var magnitude = l2Gradient ? gx.square().add_(gy.square()) : ax + ay;
        var low = (float)(l2Gradient ? lowThreshold * lowThreshold : lowThreshold);
        var high = (float)(l2Gradient ? highThreshold * highThreshold : highThreshold);

        // 3. Non-maximum suppression. OpenCV's fixed-point test: horizontal if |gy| 2^15 < |gx| TG22 with
        // TG22 = round(tan(22.5°) 2^15) = 13573; vertical if |gy| 2^15 > |gx| (TG22 + 2^16), written here as
        // (|gy| - 2|gx|) 2^15 > |gx| TG22 so every product stays exact in float for integer gradients.
        var axTg22 = ax.mul(13573f);
        var horizontal = ay.mul(32768f) < axTg22;
        var vertical = ay.add(ax, alpha: -2f).mul_(32768f) > axTg22;
        var mp = Padding.Pad(magnitude, 1, 1, 1, 1, Border.Constant); // magnitude is 0 outside the image
        Tensor At(int y, int x) => mp.narrow(2, y, h).narrow(3, x, w);
        // As OpenCV breaks ties: strictly greater than the neighbour before (left or above) and at least the one
        // after (right or below); on a diagonal, strictly greater than both.
        var alongX = (magnitude > At(1, 0)).logical_and_(magnitude >= At(1, 2));
        var alongY = (magnitude > At(0, 1)).logical_and_(magnitude >= At(2, 1));
        var sameSign = (gx < 0f).logical_xor(gy < 0f).logical_not_();
        var alongDiagonal = where(sameSign,
            (magnitude > At(0, 0)).logical_and_(magnitude > At(2, 2)),
            (magnitude > At(0, 2)).logical_and_(magnitude > At(2, 0)));
        var isMaximum = where(horizontal, alongX, where(vertical, alongY, alongDiagonal));

        // 4. Double threshold.
        var candidate = isMaximum.logical_and_(magnitude > low);
        var strong = candidate.logical_and(magnitude > high);

        // 5. Hysteresis.
        var edges = Hysteresis(candidate.view(b, h, w), strong.view(b, h, w));
        return edges.view(b, 1, h, w).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// Keeps the candidate pixels (B,H,W bool) that are 8-connected through candidates to a strong pixel.
    internal static Tensor Hysteresis(Tensor candidate, Tensor strong)
    {
        using var scope = NewDisposeScope();
        long b = candidate.shape[0], h = candidate.shape[1], w = candidate.shape[2];
        var device = candidate.device;
        // Pad by one false pixel all round: neighbours are then flat index offsets that never wrap across rows
        // or images.
        long stride = w + 2;
        var pc = nn.functional.pad(candidate.to(ScalarType.Byte), [1, 1, 1, 1]).flatten();
        var ps = nn.functional.pad(strong.to(ScalarType.Byte), [1, 1, 1, 1]).flatten();
        var at = pc.nonzero().squeeze(1); // flat padded positions of the K candidates
        var k = at.shape[0];
        var output = zeros(new long[] { b, h + 2, w + 2 }, ScalarType.Bool, device);
        if (k > 0)
        {
            var id = full(pc.shape[0], -1L, ScalarType.Int64, device);
            var ids = arange(k, ScalarType.Int64, device);
            id.index_put_(ids, at);
            // Links to the right, down-left, down and down-right neighbours (the other four are the same links seen
            // from the other end): one gather for all four, then keep those that land on a candidate.
            var offsets = tensor(new[] { 1L, stride - 1, stride, stride + 1 }, device: device);
            var neighbours = id.index_select(0, (offsets.unsqueeze(1) + at.unsqueeze(0)).flatten());
            var link = (neighbours >= 0).nonzero().squeeze(1);
            var u = link.remainder(k);
            var v = neighbours.index_select(0, link);
            var parent = ids.clone();
            while (true)
            {
                var pu = parent.index_select(0, u);
                var pv = parent.index_select(0, v);
                // Links whose ends already share a root are done for good; drop them.
                var open = pu.ne(pv).nonzero().squeeze(1);
                if (open.shape[0] == 0) break;
                pu = pu.index_select(0, open);
                pv = pv.index_select(0, open);
                u = u.index_select(0, open);
                v = v.index_select(0, open);
                // Hook the larger root onto the smaller (any one writer wins): parents only ever decrease, so no
                // cycle can form, and each round removes at least one root of every component still split.
                parent.scatter_(0, maximum(pu, pv), minimum(pu, pv));
                parent = Compress(parent);
            }
            var strongRoots = parent.masked_select(ps.index_select(0, at).to(ScalarType.Bool));
            var keepRoot = zeros(k, ScalarType.Bool, device).index_fill_(0, strongRoots, true);
            output.view(-1).index_put_(keepRoot.index_select(0, parent), at);
        }
        return output.narrow(1, 1, h).narrow(2, 1, w).contiguous().MoveToOuterDisposeScope();
    }

    /// Pointer jumping: every node ends up pointing straight at its root, in log(depth) gathers.
    private static Tensor Compress(Tensor parent)
    {
        while (true)
        {
            var grand = parent.index_select(0, parent);
            if (grand.eq(parent).all().item<bool>()) return parent;
            parent = grand;
        }
    }

    // ---------------------------------------------------------------- helpers

    /// OpenCV's rule for Gaussian sizes: an odd size as given, or from sigma when the size is 0.
    internal static int GaussianSize(int kernelSize, double sigma, string name = "kernelSize")
    {
        if (kernelSize == 0)
        {
            if (!(sigma > 0) || double.IsInfinity(sigma))
                throw new ArgumentOutOfRangeException(name, kernelSize, $"{name} 0 derives the size from sigma, so sigma must be positive; got sigma {sigma}.");
            return (int)Math.Round(sigma * 4 * 2 + 1, MidpointRounding.AwayFromZero) | 1;
        }
        Guard.OddSize(kernelSize, name);
        if (double.IsNaN(sigma) || double.IsInfinity(sigma))
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, $"sigma must be a finite number (<= 0 to derive it from the size); got {sigma}.");
        return kernelSize;
    }
}
