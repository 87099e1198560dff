using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks.Features;

/// Corner detectors on (B,1,H,W) float grey images, as OpenCV computes them.
///
/// Both responses come from the structure tensor M = Σ_window [Ix², IxIy; IxIy, Iy²]: Sobel derivatives (aperture
/// `ksize`, scaled by 1/(2^(ksize-1)·blockSize) as cv::cornerEigenValsVecs does for float images), their products
/// summed over a blockSize x blockSize window (unnormalised box filter, anchor at blockSize/2), reflect-101 borders.
/// Harris scores det(M) - k·trace(M)²; Shi-Tomasi scores the smaller eigenvalue of M/2 (OpenCV's cornerMinEigenVal),
/// high only where the image changes in every direction. Derivatives and box sums are shifted views of the padded
/// image (DESIGN.md: libtorch's CPU conv2d is far slower for small filters), and everything stays on the device.
/// On the CPU that is ~2.5-3x OpenCV's time for a float image: each step here is its own pass over whole float32
/// images (about 25 for Harris), where OpenCV runs the products and the response in one loop per row.
public static class Corners
{
    /// Harris corner response (B,1,H,W) as cv::cornerHarris(src, blockSize, ksize, k) on a float image.
    /// ksize is the Sobel aperture: 1, 3, 5 or 7, or -1 for Scharr's 3x3.
    public static Tensor Harris(Tensor images, int blockSize = 2, int ksize = 3, double k = 0.04)
    {
        Check(images, blockSize, ksize);
        using var scope = NewDisposeScope();
        var (a, b, c) = StructureTensor(images, blockSize, ksize);
        // OpenCV: (float)(a*c - b*b - k*(a+c)*(a+c)), the product terms in float.
        var trace = a.add(c);
        var response = a.mul(c).sub_(b.mul(b)).sub_(trace.mul_(trace).mul_(k));
        return response.MoveToOuterDisposeScope();
    }

    /// Shi-Tomasi response (B,1,H,W), the smaller eigenvalue of the structure tensor over 2, as
    /// cv::cornerMinEigenVal(src, blockSize, ksize): (a+c) - sqrt((a-c)² + b²) with a, c the halved diagonal.
    public static Tensor ShiTomasi(Tensor images, int blockSize = 3, int ksize = 3)
    {
        Check(images, blockSize, ksize);
        using var scope = NewDisposeScope();
        var (a, b, c) = StructureTensor(images, blockSize, ksize);
        a.mul_(0.5f);
        c.mul_(0.5f);
        var diff = a.sub(c);
        var root = diff.mul_(diff).add_(b.mul(b)).sqrt_();
        return a.add_(c).sub_(root).MoveToOuterDisposeScope();
    }

    /// Strong corners per image as cv::goodFeaturesToTrack: the Shi-Tomasi response (or Harris with useHarris and
    /// k, Sobel aperture 3), kept where above qualityLevel times the image's best response and a maximum of its 3x3
    /// neighbourhood (not on the outermost pixel ring), strongest first, dropping any closer than minDistance to one
    /// already kept, at most maxCorners (0 = no limit). Returns one (N,2) float32 tensor of (x, y) pixel
    /// coordinates per image, on the images' device.
    ///
    /// The response, threshold and non-maximum suppression (a 3x3 maximum of shifted views) run on the device; the
    /// surviving candidates (typically a few hundred to a few thousand) go to the CPU for the greedy minDistance
    /// selection, which is sequential by nature (each choice depends on the ones before) and uses OpenCV's grid of
    /// minDistance-sized cells, then the chosen corners go back to the device.
    public static Tensor[] GoodFeaturesToTrack(Tensor images, int maxCorners, double qualityLevel, double minDistance,
        int blockSize = 3, bool useHarris = false, double k = 0.04)
    {
        Check(images, blockSize, 3);
        if (maxCorners < 0) throw new ArgumentOutOfRangeException(nameof(maxCorners), maxCorners, $"maxCorners must be 0 (no limit) or more; got {maxCorners}.");
        if (!(qualityLevel > 0) || qualityLevel > 1)
            throw new ArgumentOutOfRangeException(nameof(qualityLevel), qualityLevel, $"qualityLevel is a fraction of the best response and must be in (0,1]; got {qualityLevel}.");
        if (!(minDistance >= 0) || double.IsInfinity(minDistance))
            throw new ArgumentOutOfRangeException(nameof(minDistance), minDistance, $"minDistance must be a finite number of pixels, at least 0; got {minDistance}.");

        using var scope = NewDisposeScope();
        long batch = images.shape[0], h = images.shape[2], w = images.shape[3];
        var response = useHarris ? Harris(images, blockSize, 3, k) : ShiTomasi(images, blockSize, 3);
        // threshold(eig, maxVal*qualityLevel, THRESH_TOZERO): keep values strictly above, in float.
        var best = response.amax([1, 2, 3], keepdim: true);
        var threshold = best.to(ScalarType.Float64).mul_(qualityLevel).to(ScalarType.Float32);
        var kept = where(response.gt(threshold), response, zeros_like(response));
        var localMax = Morphology.Morphology.Dilate(kept);
        var candidate = kept.ne(0).logical_and_(kept.eq(localMax));
        candidate.narrow(2, 0, 1).fill_(false);
        candidate.narrow(2, h - 1, 1).fill_(false);
        candidate.narrow(3, 0, 1).fill_(false);
        candidate.narrow(3, w - 1, 1).fill_(false);

        var found = candidate.nonzero();                                   // (N,4): image, channel, y, x
        var values = kept.masked_select(candidate).cpu().data<float>().ToArray();
        var places = found.cpu().data<long>().ToArray();
        var perImage = new List<(float Value, int Y, int X)>[batch];
        for (var i = 0; i < batch; i++) perImage[i] = [];
        for (var i = 0; i < values.Length; i++)
            perImage[places[i * 4]].Add((values[i], (int)places[i * 4 + 2], (int)places[i * 4 + 3]));

        var result = new Tensor[batch];
        for (var i = 0; i < batch; i++)
        {
            var chosen = Select(perImage[i], (int)h, (int)w, maxCorners, minDistance);
            var xy = new float[chosen.Count * 2];
            for (var j = 0; j < chosen.Count; j++)
            {
                xy[2 * j] = chosen[j].X;
                xy[2 * j + 1] = chosen[j].Y;
            }
            result[i] = tensor(xy, [chosen.Count, 2], device: images.device).MoveToOuterDisposeScope();
        }
        return result;
    }

    /// OpenCV's greedy selection: strongest first (ties: the later pixel in row-major order first, as its sort of
    /// pointers does), each kept unless within minDistance of one kept before, checked in the 3x3 grid cells around it.
    private static List<(int X, int Y)> Select(List<(float Value, int Y, int X)> candidates, int h, int w, int maxCorners, double minDistance)
    {
        candidates.Sort((p, q) => p.Value != q.Value ? q.Value.CompareTo(p.Value) : ((long)q.Y * w + q.X).CompareTo((long)p.Y * w + p.X));
        var chosen = new List<(int X, int Y)>();
        if (minDistance < 1)
        {
            foreach (var c in candidates)
            {
                chosen.Add((c.X, c.Y));
                if (maxCorners > 0 && chosen.Count == maxCorners) break;
            }
            return chosen;
        }
        var cell = (int)Math.Round(minDistance, MidpointRounding.ToEven);
        int gw = (w + cell - 1) / cell, gh = (h + cell - 1) / cell;
        var grid = new List<(float X, float Y)>?[gw * gh];
        var min2 = minDistance * minDistance;
        foreach (var c in candidates)
        {
            int cx = c.X / cell, cy = c.Y / cell;
            var good = true;
            for (var yy = Math.Max(0, cy - 1); good && yy <= Math.Min(gh - 1, cy + 1); yy++)
                for (var xx = Math.Max(0, cx - 1); good && xx <= Math.Min(gw - 1, cx + 1); xx++)
                {
                    if (grid[yy * gw + xx] is not { } m) continue;
                    foreach (var p in m)
                    {
                        float dx = c.X - p.X, dy = c.Y - p.Y;
                        if (dx * dx + dy * dy < min2) { good = false; break; }
                    }
                }
            if (!good) continue;
            (grid[cy * gw + cx] ??= []).Add((c.X, c.Y));
            chosen.Add((c.X, c.Y));
            if (maxCorners > 0 && chosen.Count == maxCorners) break;
        }
        return chosen;
    }

    private static void Check(Tensor images, int blockSize, int ksize)
    {
        Guard.Images(images, channels: 1);
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"blockSize is the side of the summing window and must be at least 1; got {blockSize}.");
        if (ksize is not (-1 or 1 or 3 or 5 or 7))
            throw new ArgumentOutOfRangeException(nameof(ksize), ksize, $"ksize is the Sobel aperture and must be 1, 3, 5 or 7 (or -1 for Scharr); got {ksize}.");
    }

    /// The windowed sums of Ix², IxIy and Iy², each (B,1,H,W), as cv::cornerEigenValsVecs builds them.
    private static (Tensor A, Tensor B, Tensor C) StructureTensor(Tensor images, int blockSize, int ksize)
    {
        var scale = (double)(1 << ((ksize > 0 ? ksize : 3) - 1)) * blockSize;
        if (ksize < 0) scale *= 2;
        scale = 1 / scale;
        var (smooth, derivative) = SobelKernels(ksize);
        // As cv::Sobel, the scale goes into the smoothing kernel.
        var scaled = smooth.Select(v => (float)(v * scale)).ToArray();
        long h = images.shape[2], w = images.shape[3];
        int rs = scaled.Length / 2, rd = derivative.Length / 2, r = Math.Max(rs, rd);
        // One reflect-101 padding serves both derivatives; each pass takes the rows or columns its taps reach.
        var padded = Padding.Pad(images, r, r, r, r, Border.Reflect101);
        var smoothed = Separable.Along(padded.narrow(2, r - rs, h + 2 * rs), scaled, axis: 2, outLength: h);
        var dx = Separable.Along(smoothed.narrow(3, r - rd, w + 2 * rd), derivative, axis: 3, outLength: w);
        var differenced = Separable.Along(padded.narrow(2, r - rd, h + 2 * rd), derivative, axis: 2, outLength: h);
        var dy = Separable.Along(differenced.narrow(3, r - rs, w + 2 * rs), scaled, axis: 3, outLength: w);
        return (BoxSum(dx.mul(dx), blockSize), BoxSum(dx.mul(dy), blockSize), BoxSum(dy.mul(dy), blockSize));
    }

    /// Unnormalised blockSize x blockSize box sum with OpenCV's anchor (blockSize/2, also for even sizes) and
    /// reflect-101 borders. Down the columns, one sum over unfold's windows (vectorised along the row, one pass
    /// whatever the size); along the rows, shifted views.
    private static Tensor BoxSum(Tensor x, int size)
    {
        if (size == 1) return x;
        var before = size / 2;
        var after = size - 1 - before;
        var padded = Padding.Pad(x, before, after, before, after, Border.Reflect101);
        var rows = size == 2
            ? padded.narrow(2, 0, x.shape[2]).add(padded.narrow(2, 1, x.shape[2]))
            : padded.unfold(2, size, 1).sum([-1]);
        return Separable.Along(rows, Enumerable.Repeat(1f, size).ToArray(), axis: 3, outLength: x.shape[3]);
    }

    /// Smoothing and derivative taps of OpenCV's getSobelKernels for a first derivative (Scharr for ksize -1),
    /// taken from the Filters domain so both use one definition.
    internal static (float[] Smooth, float[] Derivative) SobelKernels(int ksize)
    {
        if (ksize == -1) return ([3, 10, 3], [-1, 0, 1]);
        var (kx, ky) = global::CvNotebooks.Filters.Filters.SobelKernels(1, 0, ksize);
        return (ky, kx);
    }

}
