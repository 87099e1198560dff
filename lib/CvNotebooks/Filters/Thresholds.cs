using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Filters;

/// Thresholding of (B,C,H,W) float32 batches in [0,1] into float masks (1 where the test holds, else 0), as OpenCV's
/// threshold and adaptiveThreshold with maxval 1. Thresholds and offsets are in the image's units ([0,1]): OpenCV's
/// 8-bit threshold 128 is 128/255 here.
public static class Thresholds
{
    /// 1 where a pixel is above threshold, else 0 (OpenCV's THRESH_BINARY); with inverse, 1 where it is at or
    /// below (THRESH_BINARY_INV). Every channel is thresholded on its own.
    public static Tensor Binary(Tensor images, double threshold, bool inverse = false)
    {
        Guard.Images(images, nameof(images));
        if (double.IsNaN(threshold) || double.IsInfinity(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"threshold must be a finite number (image units, [0,1]); got {threshold}.");
        var t = (float)threshold;
        using var scope = NewDisposeScope();
        var mask = inverse ? images <= t : images > t;
        return mask.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// Otsu's threshold for each gray image of a (B,1,H,W) batch, and the mask it gives. The image is binned into
    /// 256 grey levels (as OpenCV, whose Otsu takes 8-bit images only) and the level t that maximises the
    /// between-class variance q1(t) q2(t) (mu1(t) - mu2(t))² is chosen, the first such level on ties; the whole
    /// search is a few cumulative sums over the histograms, no loop over levels.
    /// Returns Thresholds, shape (B), in [0,1] (OpenCV's value divided by 255), and Mask, (B,1,H,W) float, 1 where
    /// a pixel is above its image's threshold (with inverse, at or below it).
    public static (Tensor Thresholds, Tensor Mask) Otsu(Tensor images, bool inverse = false)
    {
        Guard.Images(images, nameof(images), channels: 1);
        using var scope = NewDisposeScope();
        long b = images.shape[0];
        var device = images.device;
        var levels = images.mul(255f).round_().clamp_(0f, 255f).to(ScalarType.Int64).view(b, -1);
        var pixels = levels.shape[1];
        var offsets = arange(b, ScalarType.Int64, device).mul_(256L).unsqueeze(1);
        var histogram = bincount(levels.add(offsets).flatten(), minlength: b * 256).view(b, 256).to(ScalarType.Float64);
        var p = histogram.div_(pixels);
        var q1 = p.cumsum(1);
        var m1 = p.mul(arange(256, ScalarType.Float64, device)).cumsum(1); // first moment of the levels up to t
        var mu = m1.narrow(1, 255, 1);
        var q2 = 1.0 - q1;
        var mu1 = m1 / q1;
        var mu2 = (mu - m1) / q2;
        var sigma = q1 * q2 * (mu1 - mu2).pow_(2);
        // OpenCV skips levels where one class is (numerically) empty.
        const double eps = 1.1920928955078125e-07; // FLT_EPSILON
        var valid = (minimum(q1, q2) >= eps).logical_and_(maximum(q1, q2) <= 1 - eps);
        sigma = where(valid, sigma, zeros_like(sigma));
        var best = sigma.argmax(1);
        var thresholds = best.to(ScalarType.Float32).div_(255f);
        var t = thresholds.view(b, 1, 1, 1);
        var mask = (inverse ? images <= t : images > t).to(ScalarType.Float32);
        return (thresholds.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// Adaptive threshold against the mean of the blockSize x blockSize neighbourhood: 1 where a pixel is above
    /// mean - c (with inverse, at or below: the complement), as OpenCV's ADAPTIVE_THRESH_MEAN_C with replicated
    /// borders. Good for uneven lighting, where one global threshold fails. c is in image units: OpenCV's C = 2 on
    /// 8-bit images is 2/255. The mean is rounded to a grey level (1/255) as OpenCV's 8-bit code does.
    public static Tensor AdaptiveMean(Tensor images, int blockSize, double c, bool inverse = false)
    {
        Check(images, blockSize, c);
        using var scope = NewDisposeScope();
        var mean = Filters.BoxBlur(images, blockSize, Border.Replicate);
        return Compare(images, mean, c, inverse).MoveToOuterDisposeScope();
    }

    /// Adaptive threshold against the Gaussian-weighted mean of the blockSize x blockSize neighbourhood
    /// (sigma from the size, as OpenCV's ADAPTIVE_THRESH_GAUSSIAN_C): 1 where a pixel is above that mean - c,
    /// the mean rounded to a grey level as in <see cref="AdaptiveMean"/>.
    public static Tensor AdaptiveGaussian(Tensor images, int blockSize, double c, bool inverse = false)
    {
        Check(images, blockSize, c);
        using var scope = NewDisposeScope();
        var mean = Filters.GaussianBlur(images, blockSize, 0, Border.Replicate);
        return Compare(images, mean, c, inverse).MoveToOuterDisposeScope();
    }

    private static void Check(Tensor images, int blockSize, double c)
    {
        Guard.Images(images, nameof(images));
        Guard.OddSize(blockSize, nameof(blockSize), min: 3);
        if (!(Math.Abs(c) <= 1))
            throw new ArgumentOutOfRangeException(nameof(c), c, $"c must lie in [-1,1], in image units; got {c}. OpenCV's C on 8-bit images is C/255 here (C = 2 becomes 2/255).");
    }

    /// OpenCV computes the local mean of its 8-bit image in 8 bits (rounded to a grey level) and compares integers:
    /// x > round(mean) - C. The same on the 0..255 scale, with ties (within 1/1000 of a grey level) counted as not
    /// above, so images that came from 8 bits get OpenCV's masks, and float images a threshold within half a level.
    private static Tensor Compare(Tensor images, Tensor mean, double c, bool inverse)
    {
        var level = mean.mul_(255f).round_().sub_((float)(c * 255 - 1e-3));
        var x = images * 255f;
        return (inverse ? x <= level : x > level).to(ScalarType.Float32);
    }
}
