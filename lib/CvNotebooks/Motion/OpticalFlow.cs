using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CvNotebooks.Motion;

/// Optical flow: how each point or pixel of one frame moved to reach the next. Sparse pyramidal Lucas-Kanade
/// (OpenCV's calcOpticalFlowPyrLK, Bouguet's formulation) for tracking chosen points, dense Horn-Schunck for a
/// flow field, and the colour-wheel picture used to look at a flow field. Frames are gray (1 channel) float32 in
/// [0,1]; points are (x, y) in pixels with (0,0) the centre of the top-left pixel, as in OpenCV.
public static class OpticalFlow
{
    /// Pyramidal Lucas-Kanade: where each of `points` (N,2, xy) in `prev` (1,1,H,W) went in `next` (1,1,H,W).
    ///
    /// Each point is tracked coarse to fine through a Gaussian pyramid of `maxLevel` + 1 levels (pyrDown, as
    /// OpenCV; fewer when the image gets smaller than the window). At each level a windowSize x windowSize patch
    /// around the point gives the 2x2 structure matrix G = sum of [Ix², IxIy; IxIy, Iy²] (Scharr gradients of
    /// `prev`); then up to `iterations` Newton steps d = -G⁻¹ sum(∇I (J - I)) move the estimate, stopping when a step
    /// is shorter than `epsilon` pixels. Every patch is read with bilinear interpolation by one grid_sample call for
    /// all N points and every 2x2 system is solved in closed form for all points at once, all on the device.
    /// Points that have converged leave the working set (it is compacted once half of it is done), and the loop
    /// stops when none is left: one count read back per iteration, the only host synchronisation.
    /// Per-point loops in C++ are far cheaper for a few hundred points: OpenCV is ~20-40x faster on the CPU
    /// (measured in OpticalFlowTests); this kernel is the readable, batched, device-agnostic version.
    ///
    /// Returns the new points (N,2), a status (N, bool) that is false where the point could not be tracked (its
    /// window left the image, or the patch had too little texture: the smallest eigenvalue of G / window area,
    /// in OpenCV's units, was below `minEigThreshold`), and an error (N): the mean absolute difference between the
    /// two patches in [0,1] intensity (OpenCV's err is the same figure in 0-255 units). Borders, stopping rules and
    /// thresholds follow OpenCV's implementation, so the same arguments give nearly the same tracks.
    public static (Tensor Points, Tensor Status, Tensor Error) LucasKanade(Tensor prev, Tensor next, Tensor points,
        int windowSize = 21, int maxLevel = 3, int iterations = 30, double epsilon = 0.01, double minEigThreshold = 1e-4)
    {
        Guard.Images(prev, nameof(prev), channels: 1);
        Guard.Images(next, nameof(next), channels: 1);
        if (prev.shape[0] != 1 || next.shape[0] != 1)
            throw new ArgumentException($"LucasKanade tracks points between two frames: prev and next must be (1,1,H,W); got {Guard.Shape(prev)} and {Guard.Shape(next)}.", nameof(prev));
        if (!prev.shape.SequenceEqual(next.shape))
            throw new ArgumentException($"prev and next must have the same size; got {Guard.Shape(prev)} and {Guard.Shape(next)}.", nameof(next));
        if (prev.shape[2] < 2 || prev.shape[3] < 2)
            throw new ArgumentException($"frames must be at least 2x2 pixels; got {Guard.Shape(prev)}.", nameof(prev));
        Guard.SameDevice(prev, next, nameof(prev), nameof(next));
        ArgumentNullException.ThrowIfNull(points);
        if (points.dim() != 2 || points.shape[1] != 2 || points.dtype != ScalarType.Float32)
            throw new ArgumentException($"points must be a float32 (N,2) tensor of (x, y) pixel positions; got {points.dtype} {Guard.Shape(points)}.", nameof(points));
        Guard.SameDevice(prev, points, nameof(prev), nameof(points));
        if (windowSize < 3) throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, $"windowSize must be at least 3; got {windowSize}.");
        if (maxLevel < 0) throw new ArgumentOutOfRangeException(nameof(maxLevel), maxLevel, $"maxLevel must be 0 (no pyramid) or more; got {maxLevel}.");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"iterations must be at least 1; got {iterations}.");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"epsilon must be 0 or more; got {epsilon}.");
        if (!(minEigThreshold >= 0)) throw new ArgumentOutOfRangeException(nameof(minEigThreshold), minEigThreshold, $"minEigThreshold must be 0 or more; got {minEigThreshold}.");

        using var scope = NewDisposeScope();
        var device = prev.device;
        var n = points.shape[0];
        if (n == 0)
            return (empty(0, 2, device: device).MoveToOuterDisposeScope(), empty(0, ScalarType.Bool, device: device).MoveToOuterDisposeScope(),
                empty(0, device: device).MoveToOuterDisposeScope());

        var prevPyr = Pyramid(prev, maxLevel, windowSize);
        var nextPyr = Pyramid(next, prevPyr.Count - 1, windowSize);
        var half = (windowSize - 1) * 0.5f;
        var area = (double)windowSize * windowSize;
        var steps = arange(windowSize, ScalarType.Float32, device: device) - half;
        var offsets = stack([steps.repeat(windowSize), steps.repeat_interleave(windowSize)], 1); // (K,2), x fastest
        // OpenCV works in 0-255 intensity with Scharr gradients scaled by 32 and sums scaled by 2^-20; these factors
        // turn our [0,1] sums into its units, so minEigThreshold and the determinant test mean the same there.
        const double cvScale = 255.0 * 255.0 / 1024.0;
        const double FltEpsilon = 1.1920929e-7; // C's FLT_EPSILON, OpenCV's bound on the determinant
        var epsilon2 = epsilon * epsilon;

        var status = ones(n, ScalarType.Bool, device: device);
        Tensor estimate = points; // current estimate at the current level's scale
        Tensor iPatch = null!;
        // Frames are padded once per level by windowSize + 1 (images reflect-101, gradients with zeros, as OpenCV
        // pads its pyramids), so every window that passes OpenCV's bounds test reads padded pixels and all sampling
        // can use grid_sample's cheapest border mode; padded coordinates are the pixel ones plus `margin`.
        var margin = windowSize + 1;
        Tensor jPadded = null!;
        for (var level = prevPyr.Count - 1; level >= 0; level--)
        {
            var img = prevPyr[level];
            long h = img.shape[2], w = img.shape[3];
            var p = points * (float)(1.0 / (1 << level));
            estimate = level == prevPyr.Count - 1 ? p.clone() : estimate * 2f;
            var iPadded = cat([Padding.Pad(img, margin, margin, margin, margin, Border.Reflect101),
                Padding.Pad(Gradients(img), margin, margin, margin, margin, Border.Constant)], 1);
            jPadded = Padding.Pad(nextPyr[level], margin, margin, margin, margin, Border.Reflect101);

            var patches = Sample(iPadded, p + margin, offsets);   // (3,N,K): I, Ix, Iy
            iPatch = patches[0];
            var ix = patches[1];
            var iy = patches[2];
            var a11 = (ix * ix).sum(1);
            var a12 = (ix * iy).sum(1);
            var a22 = (iy * iy).sum(1);
            var det = a11 * a22 - a12 * a12;
            var minEig = (a11 + a22 - ((a11 - a22).square() + 4 * a12.square()).sqrt()) * (0.5 * cvScale / area);
            var ok = InBounds(p, half, windowSize, w, h)
                .logical_and_(minEig.ge(minEigThreshold))
                .logical_and_((det * (cvScale * cvScale)).ge(FltEpsilon));
            if (level == 0) status.logical_and_(ok);
            // The step is d = -G⁻¹ b with b = sum over the window of (J - I) (Ix, Iy): keep -G⁻¹ (N,2,2) and the
            // gradients as (N,K,2) so each iteration is two batched matrix products.
            var invDet = where(ok, det, ones_like(det)).reciprocal_();
            var negInverse = stack([-a22, a12, a12, -a11], 1).mul_(invDet.unsqueeze(1)).view(n, 2, 2);
            var gradients = stack([ix, iy], 2);

            // Newton steps on a working set that holds only the points still moving: it is compacted whenever half
            // of it has converged, so the last few slow points do not cost a full-width grid_sample each step.
            var index = arange(n, ScalarType.Int64, device: device);
            Tensor wEstimate = estimate.clone(), wI = iPatch, wGradients = gradients, wNegInverse = negInverse;
            var active = ok.clone();
            var previousDelta = zeros(n, 2, device: device);
            for (var j = 0; j < iterations; j++)
            {
                using var step = NewDisposeScope();
                var inside = InBounds(wEstimate, half, windowSize, w, h);
                if (level == 0) status.index_fill_(0, index.masked_select(active.logical_and(inside.logical_not())), false);
                var moving = active.logical_and(inside);
                var diff = Sample(jPadded, wEstimate + margin, offsets)[0].sub_(wI);
                var b = diff.unsqueeze(1).bmm(wGradients);                           // (M,1,2)
                var delta = wNegInverse.bmm(b.transpose(1, 2)).squeeze(2);          // (M,2)
                delta = where(moving.unsqueeze(1), delta, zeros_like(delta));
                var updated = wEstimate + delta;
                moving.logical_and_(delta.square().sum(1).gt(epsilon2));
                if (j > 0)
                {
                    // OpenCV's oscillation rule: a step that undoes the previous one ends at the midpoint.
                    var oscillating = (delta + previousDelta).abs().lt(0.01f).all(1).logical_and_(moving);
                    updated.sub_(where(oscillating.unsqueeze(1), delta * 0.5f, zeros_like(delta)));
                    moving.logical_and_(oscillating.logical_not());
                }
                wEstimate.copy_(updated);
                active.copy_(moving);
                previousDelta.copy_(delta);
                estimate.index_copy_(0, index, wEstimate);
                var count = moving.sum().item<long>();
                if (count == 0) break;
                if (2 * count <= index.shape[0])
                {
                    var keep = moving.nonzero().squeeze(1);
                    Tensor Keep(Tensor t) => t.index_select(0, keep).MoveToOuterDisposeScope();
                    (index, wEstimate, wI, wGradients, wNegInverse) = (Keep(index), Keep(wEstimate), Keep(wI), Keep(wGradients), Keep(wNegInverse));
                    (active, previousDelta) = (Keep(active), Keep(previousDelta));
                }
            }
        }

        // Final check and error at full resolution, as OpenCV: the window must still touch the image.
        status.logical_and_(InBounds(estimate, half, windowSize, prev.shape[3], prev.shape[2]));
        var jPatch = Sample(jPadded, estimate + margin, offsets)[0];
        var error = (jPatch - iPatch).abs().mean([1]);
        return (estimate.MoveToOuterDisposeScope(), status.MoveToOuterDisposeScope(), error.MoveToOuterDisposeScope());
    }

    /// Dense Horn-Schunck optical flow (Horn and Schunck, 1981) from `prev` to `next`, both (B,1,H,W): a (B,2,H,W)
    /// field of (u, v) displacements in pixels (channel 0 along x, channel 1 along y).
    ///
    /// Minimises the brightness-constancy error (Ix u + Iy v + It)² plus alpha² times the flow's roughness
    /// |∇u|² + |∇v|² with `iterations` Jacobi steps: u = ū - Ix (Ix ū + Iy v̄ + It) / (alpha² + Ix² + Iy²), where ū is the
    /// paper's weighted average of the 8 neighbours. Ix, Iy are Scharr gradients of the mean of both frames and It
    /// their difference (all at pixel centres; the paper's 2x2x2 cube puts them half a pixel off). `alpha` is in the
    /// same units as the gradients, [0,1] intensity per pixel: larger is smoother. `presmoothSigma` blurs both frames
    /// first (0 to skip), which keeps the linearisation valid for motions of a pixel or two; being single-scale,
    /// Horn-Schunck underestimates larger motions. The defaults (alpha 0.01, sigma 1.5, 200 iterations) were chosen
    /// on real images: a 0.6 px shift of building.jpg comes back within ~0.2 px, and RubberWhale's flow points the way
    /// Farneback's does (median 6 degrees apart). Runs entirely on the device: shifted views, no conv2d, no host reads.
    public static Tensor HornSchunck(Tensor prev, Tensor next, double alpha = 0.01, int iterations = 200, double presmoothSigma = 1.5)
    {
        Guard.Images(prev, nameof(prev), channels: 1);
        Guard.Images(next, nameof(next), channels: 1);
        if (!prev.shape.SequenceEqual(next.shape))
            throw new ArgumentException($"prev and next must have the same shape; got {Guard.Shape(prev)} and {Guard.Shape(next)}.", nameof(next));
        Guard.SameDevice(prev, next, nameof(prev), nameof(next));
        Guard.Positive(alpha, nameof(alpha));
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"iterations must be at least 1; got {iterations}.");
        if (!(presmoothSigma >= 0) || double.IsInfinity(presmoothSigma))
            throw new ArgumentOutOfRangeException(nameof(presmoothSigma), presmoothSigma, $"presmoothSigma must be 0 (no smoothing) or a positive number; got {presmoothSigma}.");

        using var scope = NewDisposeScope();
        Tensor a = prev, b = next;
        if (presmoothSigma > 0)
        {
            var g = Gaussian1d(presmoothSigma);
            a = Separable.Filter(prev, g, g, Border.Reflect101);
            b = Separable.Filter(next, g, g, Border.Reflect101);
        }
        var mean = (a + b) * 0.5f;
        var ix = Separable.Filter(mean, ScharrDerivative, ScharrSmooth, Border.Reflect101);
        var iy = Separable.Filter(mean, ScharrSmooth, ScharrDerivative, Border.Reflect101);
        var it = b - a;
        var denominator = (ix.square() + iy.square()).add_(alpha * alpha);
        var gradOverDenominator = cat([ix, iy], 1).div_(denominator);   // (B,2,H,W)

        // The flow lives inside a buffer one pixel larger on each side whose border repeats the edge (replicate:
        // no flux out of the image), so the neighbour sums read shifted views without padding every iteration.
        long height = prev.shape[2], width = prev.shape[3];
        var padded = zeros(prev.shape[0], 2, height + 2, width + 2, device: prev.device);
        var flow = padded[.., .., 1..^1, 1..^1];
        for (var k = 0; k < iterations; k++)
        {
            using var step = NewDisposeScope();
            // Horn-Schunck's neighbour average: 1/6 on the 4 edge neighbours, 1/12 on the corners, 0 in the centre,
            // i.e. the separable [1,2,1]x[1,2,1] sum minus 4 times the centre, over 12.
            var rows = padded.narrow(2, 0, height) + padded.narrow(2, 2, height);
            rows.add_(padded.narrow(2, 1, height), alpha: 2);
            var average = rows.narrow(3, 0, width) + rows.narrow(3, 2, width);
            average.add_(rows.narrow(3, 1, width), alpha: 2).add_(flow, alpha: -4).mul_(1f / 12);
            // Jacobi step: flow = average - grad / (alpha² + |grad|²) * (Ix ū + Iy v̄ + It).
            var residual = it.addcmul(ix, average.narrow(1, 0, 1), 1).addcmul_(iy, average.narrow(1, 1, 1), 1);
            flow.copy_(average.addcmul_(gradOverDenominator, residual, -1));
            padded.narrow(2, 0, 1).copy_(padded.narrow(2, 1, 1));
            padded.narrow(2, height + 1, 1).copy_(padded.narrow(2, height, 1));
            padded.narrow(3, 0, 1).copy_(padded.narrow(3, 1, 1));
            padded.narrow(3, width + 1, 1).copy_(padded.narrow(3, width, 1));
        }
        flow = flow.contiguous();
        return flow.MoveToOuterDisposeScope();
    }

    /// Pictures a flow field (B,2,H,W) as colours (B,3,H,W) RGB in [0,1] on the HSV colour wheel: hue is the
    /// direction (right red, down yellow-green, left cyan, up violet; y points down as in images), saturation the
    /// speed relative to `maxMagnitude` (white where nothing moves, as the Middlebury pictures), value 1.
    /// Without `maxMagnitude` each image is scaled by its own largest motion. Runs on the flow's device.
    public static Tensor FlowToColor(Tensor flow, double? maxMagnitude = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (flow.dim() != 4 || flow.shape[1] != 2 || flow.dtype != ScalarType.Float32)
            throw new ArgumentException($"flow must be a float32 (B,2,H,W) tensor of (u, v) displacements; got {flow.dtype} {Guard.Shape(flow)}.", nameof(flow));
        if (maxMagnitude is { } m) Guard.Positive(m, nameof(maxMagnitude));
        using var scope = NewDisposeScope();
        var u = flow[.., 0..1];
        var v = flow[.., 1..2];
        var magnitude = (u.square() + v.square()).sqrt_();
        var scale = maxMagnitude is { } max
            ? full(1, (float)max, device: flow.device)
            : magnitude.amax([1, 2, 3], keepdim: true).clamp_min_(1e-6);
        var saturation = (magnitude / scale).clamp_(0, 1);
        var hue6 = atan2(v, u).div_(Math.PI / 3).remainder_(6);   // [0,6)
        // HSV to RGB with value 1: channel = 1 - s * clamp(min(k, 4 - k), 0, 1), k = (n + h6) mod 6, n = 5, 3, 1.
        Tensor Channel(double n)
        {
            var k = (hue6 + n).remainder_(6);
            return 1 - saturation * minimum(k, 4 - k).clamp_(0, 1);
        }
        return cat([Channel(5), Channel(3), Channel(1)], 1).MoveToOuterDisposeScope();
    }

    private static readonly float[] ScharrDerivative = [-0.5f, 0f, 0.5f];
    private static readonly float[] ScharrSmooth = [3f / 16, 10f / 16, 3f / 16];
    private static readonly float[] PyrDownKernel = [1f / 16, 4f / 16, 6f / 16, 4f / 16, 1f / 16];

    /// Gaussian pyramid as OpenCV's buildOpticalFlowPyramid: pyrDown (5-tap binomial, reflect-101, keep even
    /// pixels) until maxLevel, stopping early when the next level would be no larger than the window.
    internal static List<Tensor> Pyramid(Tensor image, int maxLevel, int windowSize)
    {
        var levels = new List<Tensor> { image };
        for (var level = 1; level <= maxLevel; level++)
        {
            var last = levels[^1];
            long h = (last.shape[2] + 1) / 2, w = (last.shape[3] + 1) / 2;
            if (w <= windowSize || h <= windowSize) break;
            var blurred = Separable.Filter(last, PyrDownKernel, PyrDownKernel, Border.Reflect101);
            levels.Add(blurred.slice(2, 0, last.shape[2], 2).slice(3, 0, last.shape[3], 2).contiguous());
        }
        return levels;
    }

    /// Scharr gradients (d/dx, d/dy) of a (1,1,h,w) level as a (1,2,h,w) tensor, in intensity per pixel.
    private static Tensor Gradients(Tensor image) => cat([
        Separable.Filter(image, ScharrDerivative, ScharrSmooth, Border.Reflect101),
        Separable.Filter(image, ScharrSmooth, ScharrDerivative, Border.Reflect101)], 1);

    /// Bilinear samples of every channel of a (1,C,h,w) image at points (N,2) plus window offsets (K,2): (C,N,K).
    /// align_corners=true maps -1 and 1 to the centres of the first and last pixels; outside is 0.
    private static Tensor Sample(Tensor image, Tensor points, Tensor offsets)
    {
        long h = image.shape[2], w = image.shape[3];
        var scale = tensor(new[] { 2f / (w - 1), 2f / (h - 1) }, device: image.device);
        var grid = (points.unsqueeze(1) + offsets.unsqueeze(0)).mul_(scale).sub_(1f).unsqueeze(0); // (1,N,K,2)
        return F.grid_sample(image, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: true)[0];
    }

    /// OpenCV's test that a window around a point still overlaps the image (the top-left corner of the window,
    /// floored, lies in [-windowSize, size)).
    private static Tensor InBounds(Tensor points, float half, int windowSize, long w, long h)
    {
        var corner = (points - half).floor_();
        var upper = tensor(new float[] { w, h }, device: points.device);
        return corner.ge(-windowSize).logical_and_(corner.lt(upper)).all(1);
    }

    /// A normalised 1-D Gaussian of radius ceil(3 sigma), as OpenCV's getGaussianKernel for that size.
    private static float[] Gaussian1d(double sigma)
    {
        var radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var k = new float[2 * radius + 1];
        double sum = 0;
        for (var i = -radius; i <= radius; i++) sum += k[i + radius] = (float)Math.Exp(-i * i / (2 * sigma * sigma));
        for (var i = 0; i < k.Length; i++) k[i] = (float)(k[i] / sum);
        return k;
    }
}
