using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Geometry;

/// Plane-to-plane projective maps (3x3 homographies) from point correspondences: the direct linear transform (DLT)
/// with Hartley normalisation, and RANSAC around it for matches that include outliers, as Cv2.FindHomography.
///
/// Points are (N,2) tensors of pixel coordinates (x, y), float32 or float64; homographies are (3,3) float64 tensors
/// scaled so H[2,2] = 1, on the points' device. The linear algebra runs where the points are: the DLT is one SVD of
/// a (2N,9) matrix; RANSAC solves hundreds of 4-point models at once with a batched SVD and scores them against all
/// points in one (models x points) tensor.
public static class Homography
{
    /// The homography H with dst ~ H * src that minimises the algebraic error over all N (at least 4) correspondences:
    /// the direct linear transform. Each correspondence (x,y) to (u,v) gives two rows of A h = 0; h is the right
    /// singular vector of A with the smallest singular value. Hartley normalisation first (translate each point set
    /// to its centroid, scale it to mean distance sqrt(2)) makes A well conditioned, so pixel coordinates in the
    /// hundreds do not swamp the 1s; H is then denormalised. Exact correspondences give H up to rounding.
    public static Tensor FindDlt(Tensor src, Tensor dst)
    {
        CheckPairs(src, dst, minimum: 4);
        using var scope = NewDisposeScope();
        var s = src.to(ScalarType.Float64);
        var d = dst.to(ScalarType.Float64);
        var (ts, sn) = Normalise(s);
        var (td, dn) = Normalise(d);
        var hn = SolveDlt(sn.unsqueeze(0), dn.unsqueeze(0))[0];
        var h = Denormalise(hn, ts, td);
        return ScaleToUnit(h).MoveToOuterDisposeScope();
    }

    /// A robust homography from matches that include outliers (RANSAC), like Cv2.FindHomography(src, dst,
    /// HomographyMethods.Ransac, reprojThreshold, maxIters: maxIterations, confidence: confidence). Returns H (3,3)
    /// float64 and Inliers, an (N) bool mask of the correspondences whose forward reprojection error
    /// |H src - dst| is at most reprojThreshold pixels.
    ///
    /// How: draw random 4-point samples (seeded, drawn on the CPU so the same seed gives the same samples on every
    /// device), drop samples whose point triples change orientation or are collinear (no homography maps them, as
    /// OpenCV's checkSubset), solve every sample's DLT in one batched SVD, count each model's inliers in one tensor
    /// and keep the best. Samples are drawn in batches of 256; after each batch the number of iterations still needed
    /// for the given confidence is updated from the best inlier ratio, as OpenCV does: log(1 - confidence) /
    /// log(1 - w^4). This reads one number per batch from the device. Then the best model is refitted by DLT on its
    /// inliers and the inliers recomputed, until the set stops growing, and the result polished by a few
    /// Levenberg-Marquardt steps that minimise the inliers' squared reprojection error (OpenCV refines the same way).
    public static (Tensor H, Tensor Inliers) FindRansac(Tensor src, Tensor dst, double reprojThreshold = 3,
        int maxIterations = 2000, double confidence = 0.995, int seed = 0)
    {
        CheckPairs(src, dst, minimum: 4);
        Guard.Positive(reprojThreshold, nameof(reprojThreshold));
        if (maxIterations < 1) throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, $"maxIterations must be at least 1; got {maxIterations}.");
        if (!(confidence > 0 && confidence < 1)) throw new ArgumentOutOfRangeException(nameof(confidence), confidence, $"confidence must lie strictly between 0 and 1; got {confidence}.");
        using var scope = NewDisposeScope();
        var n = (int)src.shape[0];
        var s = src.to(ScalarType.Float64);
        var d = dst.to(ScalarType.Float64);
        var threshold2 = reprojThreshold * reprojThreshold;

        // Every sample is solved in the coordinates of the Hartley normalisation of all points.
        var (ts, sn) = Normalise(s);
        var (td, dn) = Normalise(d);
        var random = new Random(seed);
        const int batch = 256;
        var needed = maxIterations;
        var done = 0;
        Tensor? bestH = null;
        var bestCount = -1;
        while (done < Math.Min(needed, maxIterations))
        {
            var k = Math.Min(batch, maxIterations - done);
            var samples = tensor(DrawSamples(random, n, k), [k, 4], device: src.device);
            done += k;
            var ss = sn.index_select(0, samples.flatten()).reshape(k, 4, 2);
            var ds = dn.index_select(0, samples.flatten()).reshape(k, 4, 2);
            var valid = SampleIsUsable(ss, ds);
            var models = Denormalise(SolveDlt(ss, ds), ts, td);
            var counts = ReprojectionError2(models, s, d).le(threshold2).sum(1);
            counts = counts.masked_fill(valid.logical_not(), -1);
            var (top, index) = counts.max(0);
            var count = (int)top.item<long>();
            if (count > bestCount)
            {
                bestCount = count;
                bestH = models.index_select(0, index.reshape(1))[0].clone();
                needed = Math.Max(done, UpdateIterations(confidence, (double)count / n, maxIterations));
            }
        }
        if (bestH is null || bestCount < 4)
            throw new InvalidOperationException($"RANSAC found no homography with at least 4 inliers among {n} matches after {done} samples; the matches may be degenerate (collinear) or mostly wrong.");

        // Local optimisation: refit on the inliers while the consensus set grows.
        var h = ScaleToUnit(bestH);
        var inliers = ReprojectionError2(h.unsqueeze(0), s, d)[0].le(threshold2);
        var inlierCount = bestCount;
        for (var round = 0; round < 10; round++)
        {
            var refit = RefitOnInliers(s, d, inliers);
            var refitInliers = ReprojectionError2(refit.unsqueeze(0), s, d)[0].le(threshold2);
            var refitCount = (int)refitInliers.sum().item<long>();
            if (refitCount < inlierCount) break;
            var grew = refitCount > inlierCount;
            (h, inliers, inlierCount) = (refit, refitInliers, refitCount);
            if (!grew) break;
        }
        h = LevenbergMarquardt(h, s.index_select(0, inliers.nonzero().flatten()), d.index_select(0, inliers.nonzero().flatten()), iterations: 10);
        inliers = ReprojectionError2(h.unsqueeze(0), s, d)[0].le(threshold2);
        return (h.MoveToOuterDisposeScope(), inliers.MoveToOuterDisposeScope());
    }

    /// Maps (N,2) points through a homography (3,3): (x, y) to ((h00 x + h01 y + h02) / w, (h10 x + h11 y + h12) / w)
    /// with w = h20 x + h21 y + h22, like Cv2.PerspectiveTransform. Returns (N,2) in the points' dtype.
    public static Tensor Project(Tensor h, Tensor points)
    {
        CheckMatrix(h, nameof(h));
        CheckPoints(points, nameof(points));
        Guard.SameDevice(h, points, nameof(h), nameof(points));
        using var scope = NewDisposeScope();
        var p = points.to(ScalarType.Float64);
        var projected = ProjectMany(h.to(ScalarType.Float64).unsqueeze(0), p)[0];
        return projected.to(points.dtype).MoveToOuterDisposeScope();
    }

    /// The forward reprojection error |H src - dst| of each correspondence, in pixels: (N) float64.
    public static Tensor ReprojectionError(Tensor h, Tensor src, Tensor dst)
    {
        CheckMatrix(h, nameof(h));
        CheckPairs(src, dst, minimum: 1);
        Guard.SameDevice(h, src, nameof(h), nameof(src));
        using var scope = NewDisposeScope();
        var e2 = ReprojectionError2(h.to(ScalarType.Float64).unsqueeze(0), src.to(ScalarType.Float64), dst.to(ScalarType.Float64))[0];
        return e2.sqrt().MoveToOuterDisposeScope();
    }

    /// The homography as a host array, e.g. to print it or to hand it to OpenCV.
    public static double[,] ToArray(Tensor h)
    {
        CheckMatrix(h, nameof(h));
        var flat = h.to(ScalarType.Float64).cpu().data<double>().ToArray();
        var result = new double[3, 3];
        for (var i = 0; i < 9; i++) result[i / 3, i % 3] = flat[i];
        return result;
    }

    // ---------------------------------------------------------------- internals

    /// Translation to the centroid and scaling to mean distance sqrt(2): T (3,3) and the normalised points.
    private static (Tensor T, Tensor Points) Normalise(Tensor p)
    {
        var centroid = p.mean([0]);
        var centred = p.sub(centroid);
        var meanDistance = centred.square().sum(1).sqrt().mean();
        // All points equal: keep the scale 1 rather than divide by zero (the DLT is degenerate anyway).
        var scale = where(meanDistance.gt(0), meanDistance.reciprocal().mul(Math.Sqrt(2)), ones_like(meanDistance));
        var zero = zeros_like(scale);
        var one = ones_like(scale);
        var t = stack([
            scale, zero, scale.neg().mul(centroid[0]),
            zero, scale, scale.neg().mul(centroid[1]),
            zero, zero, one]).reshape(3, 3);
        return (t, centred.mul(scale));
    }

    /// Hn (K,3,3) in normalised coordinates back to pixels: inverse(Td) Hn Ts.
    private static Tensor Denormalise(Tensor hn, Tensor ts, Tensor td) => linalg.inv(td).matmul(hn).matmul(ts);

    /// DLT for K problems at once: src, dst (K,M,2), M at least 4. Returns (K,3,3).
    private static Tensor SolveDlt(Tensor src, Tensor dst)
    {
        long k = src.shape[0], m = src.shape[1];
        var x = src[TensorIndex.Ellipsis, 0];
        var y = src[TensorIndex.Ellipsis, 1];
        var u = dst[TensorIndex.Ellipsis, 0];
        var v = dst[TensorIndex.Ellipsis, 1];
        var zero = zeros_like(x);
        var one = ones_like(x);
        // Rows [-x -y -1 0 0 0 ux uy u] and [0 0 0 -x -y -1 vx vy v]; stacked as (K, M, 2, 9) then (K, 2M, 9).
        var r1 = stack([x.neg(), y.neg(), one.neg(), zero, zero, zero, u.mul(x), u.mul(y), u], -1);
        var r2 = stack([zero, zero, zero, x.neg(), y.neg(), one.neg(), v.mul(x), v.mul(y), v], -1);
        var a = stack([r1, r2], 2).reshape(k, 2 * m, 9);
        // With 4 points A is 8x9: pad with a zero row so the SVD always yields the full 9x9 V.
        if (2 * m < 9) a = cat([a, zeros([k, 9 - 2 * m, 9], a.dtype, a.device)], 1);
        var (_, _, vh) = linalg.svd(a, fullMatrices: false);
        return vh[TensorIndex.Colon, -1].reshape(k, 3, 3);
    }

    /// H scaled so H[2,2] = 1 (when H[2,2] is not 0).
    private static Tensor ScaleToUnit(Tensor h)
    {
        var h22 = h[2, 2];
        return h.div(where(h22.abs().gt(1e-12), h22, ones_like(h22)));
    }

    /// Points (N,2) through K homographies (K,3,3): (K,N,2).
    private static Tensor ProjectMany(Tensor hs, Tensor p)
    {
        var homogeneous = cat([p, ones([p.shape[0], 1], p.dtype, p.device)], 1); // (N,3)
        var q = hs.matmul(homogeneous.t()); // (K,3,N)
        var w = q[TensorIndex.Colon, 2];
        // Points sent to infinity (w = 0) project far away, so they count as outliers.
        w = where(w.abs().lt(1e-12), full_like(w, 1e-12), w);
        return q[TensorIndex.Colon, TensorIndex.Slice(0, 2)].div(w.unsqueeze(1)).transpose(1, 2);
    }

    /// Squared forward reprojection error of every correspondence under every model: (K,N).
    private static Tensor ReprojectionError2(Tensor hs, Tensor s, Tensor d) =>
        ProjectMany(hs, s).sub(d.unsqueeze(0)).square().sum(2).nan_to_num(double.MaxValue, double.MaxValue, double.MaxValue);

    /// A 4-point sample can be fitted by a homography only if no three points are collinear and every triple keeps
    /// (or every triple flips) its orientation, as OpenCV's HomographyEstimatorCallback::checkSubset. (K,4,2) to (K).
    private static Tensor SampleIsUsable(Tensor s, Tensor d)
    {
        int[][] triples = [[0, 1, 2], [1, 2, 3], [0, 2, 3], [0, 1, 3]];
        Tensor? negative = null;
        Tensor? degenerate = null;
        foreach (var t in triples)
        {
            var ds = Orientation(s, t);
            var dd = Orientation(d, t);
            var neg = ds.mul(dd).lt(0).to(ScalarType.Int32);
            // Normalised coordinates are of order 1, so an absolute threshold is meaningful.
            var flat = ds.abs().lt(1e-6).logical_or(dd.abs().lt(1e-6));
            negative = negative is null ? neg : negative.add(neg);
            degenerate = degenerate is null ? flat : degenerate.logical_or(flat);
        }
        return negative!.eq(0).logical_or(negative.eq(4)).logical_and(degenerate!.logical_not());
    }

    /// Twice the signed area of triangle t in each sample: (K).
    private static Tensor Orientation(Tensor p, int[] t)
    {
        var a = p[TensorIndex.Colon, t[0]];
        var b = p[TensorIndex.Colon, t[1]];
        var c = p[TensorIndex.Colon, t[2]];
        var ab = b.sub(a);
        var ac = c.sub(a);
        return ab[TensorIndex.Colon, 0].mul(ac[TensorIndex.Colon, 1]).sub(ab[TensorIndex.Colon, 1].mul(ac[TensorIndex.Colon, 0]));
    }

    /// k samples of 4 distinct indices below n, flattened.
    private static long[] DrawSamples(Random random, int n, int k)
    {
        var result = new long[k * 4];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                long candidate;
                do candidate = random.Next(n);
                while (Contains(result, i * 4, j, candidate));
                result[i * 4 + j] = candidate;
            }
        }
        return result;

        static bool Contains(long[] a, int start, int count, long value)
        {
            for (var q = 0; q < count; q++) if (a[start + q] == value) return true;
            return false;
        }
    }

    /// OpenCV's RANSACUpdateNumIters for 4-point models.
    private static int UpdateIterations(double confidence, double inlierRatio, int maxIterations)
    {
        var num = Math.Log(Math.Max(1 - confidence, double.Epsilon));
        var denom = 1 - Math.Pow(inlierRatio, 4);
        if (denom < double.Epsilon) return 0;
        denom = Math.Log(denom);
        return denom >= 0 || -num >= maxIterations * -denom ? maxIterations : (int)Math.Round(num / denom);
    }

    private static Tensor RefitOnInliers(Tensor s, Tensor d, Tensor inliers)
    {
        var idx = inliers.nonzero().flatten();
        var si = s.index_select(0, idx);
        var di = d.index_select(0, idx);
        var (ts, sn) = Normalise(si);
        var (td, dn) = Normalise(di);
        return ScaleToUnit(Denormalise(SolveDlt(sn.unsqueeze(0), dn.unsqueeze(0)), ts, td)[0]);
    }

    /// Levenberg-Marquardt on the 8 free entries of H (H[2,2] = 1), minimising the sum of squared forward
    /// reprojection errors of (M,2) correspondences. Each step solves an 8x8 system on the device; accepting or
    /// rejecting a step reads one number.
    private static Tensor LevenbergMarquardt(Tensor h, Tensor s, Tensor d, int iterations)
    {
        if (s.shape[0] < 5) return h;
        var lambda = 1e-3;
        var cost = ReprojectionError2(h.unsqueeze(0), s, d).sum().item<double>();
        for (var it = 0; it < iterations; it++)
        {
            var (r, j) = ResidualAndJacobian(h, s, d);
            var jt = j.t();
            var a = jt.matmul(j);
            var g = jt.matmul(r);
            var improved = false;
            for (var attempt = 0; attempt < 5 && !improved; attempt++)
            {
                var damped = a.add(diag(a.diagonal()).mul(lambda));
                var delta = linalg.solve(damped, g.neg());
                var candidate = cat([h.flatten().narrow(0, 0, 8).add(delta), ones(1, ScalarType.Float64, h.device)]).reshape(3, 3);
                var candidateCost = ReprojectionError2(candidate.unsqueeze(0), s, d).sum().item<double>();
                if (double.IsFinite(candidateCost) && candidateCost < cost)
                {
                    improved = true;
                    var relative = (cost - candidateCost) / Math.Max(cost, 1e-300);
                    (h, cost) = (candidate, candidateCost);
                    lambda = Math.Max(lambda / 10, 1e-12);
                    if (relative < 1e-10) return h;
                }
                else lambda *= 10;
            }
            if (!improved) break;
        }
        return h;
    }

    /// Residuals (2M) of projected minus observed, and their Jacobian (2M,8) with respect to h00..h21.
    private static (Tensor R, Tensor J) ResidualAndJacobian(Tensor h, Tensor s, Tensor d)
    {
        var x = s[TensorIndex.Colon, 0];
        var y = s[TensorIndex.Colon, 1];
        var hf = h.flatten();
        Tensor H(int i) => hf[i];
        var px = H(0).mul(x).add(H(1).mul(y)).add(H(2));
        var py = H(3).mul(x).add(H(4).mul(y)).add(H(5));
        var w = H(6).mul(x).add(H(7).mul(y)).add(H(8));
        var u = px.div(w);
        var v = py.div(w);
        var zero = zeros_like(x);
        var iw = w.reciprocal();
        var ju = stack([x.mul(iw), y.mul(iw), iw, zero, zero, zero, u.neg().mul(x).mul(iw), u.neg().mul(y).mul(iw)], 1);
        var jv = stack([zero, zero, zero, x.mul(iw), y.mul(iw), iw, v.neg().mul(x).mul(iw), v.neg().mul(y).mul(iw)], 1);
        var r = stack([u.sub(d[TensorIndex.Colon, 0]), v.sub(d[TensorIndex.Colon, 1])], 1).reshape(-1);
        var j = stack([ju, jv], 1).reshape(-1, 8);
        return (r, j);
    }

    private static void CheckPoints(Tensor p, string name)
    {
        ArgumentNullException.ThrowIfNull(p, name);
        if (p.dim() != 2 || p.shape[1] != 2)
            throw new ArgumentException($"{name} must have shape (N,2), one (x, y) pixel coordinate per row; got {Guard.Shape(p)}.", name);
        if (p.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"{name} must be float32 or float64; got {p.dtype}.", name);
    }

    private static void CheckPairs(Tensor src, Tensor dst, int minimum)
    {
        CheckPoints(src, nameof(src));
        CheckPoints(dst, nameof(dst));
        Guard.SameDevice(src, dst, nameof(src), nameof(dst));
        if (src.shape[0] != dst.shape[0])
            throw new ArgumentException($"src and dst must hold the same number of points (one correspondence per row); got {src.shape[0]} and {dst.shape[0]}.", nameof(dst));
        if (src.shape[0] < minimum)
            throw new ArgumentException($"a homography needs at least {minimum} correspondences; got {src.shape[0]}.", nameof(src));
    }

    private static void CheckMatrix(Tensor h, string name)
    {
        ArgumentNullException.ThrowIfNull(h, name);
        if (h.dim() != 2 || h.shape[0] != 3 || h.shape[1] != 3)
            throw new ArgumentException($"{name} must be a (3,3) homography; got {Guard.Shape(h)}.", name);
        if (h.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"{name} must be float32 or float64; got {h.dtype}.", name);
    }
}
