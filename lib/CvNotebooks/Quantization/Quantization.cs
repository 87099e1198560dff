using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CvNotebooks.Quantization;

/// What fake quantisation did to one layer's weights.
/// <param name="Name">The layer's name in the module tree, as named_modules() gives it (e.g. "features.0").</param>
/// <param name="Kind">The layer type: Linear, Conv1d, Conv2d or Conv3d.</param>
/// <param name="Shape">Shape of the weight tensor.</param>
/// <param name="MaxAbsError">Largest |quantised-then-dequantised weight - original weight|.</param>
/// <param name="MaxAbsWeight">Largest |original weight|, to read the error against.</param>
/// <param name="MaxScale">Largest quantisation step (over channels); the error is at most half of it.</param>
public sealed record QuantizedLayer(string Name, string Kind, long[] Shape, double MaxAbsError, double MaxAbsWeight, double MaxScale);

/// Int8 affine quantisation, the arithmetic under post-training quantisation of networks: a real value x is stored
/// as an integer q = clamp(round(x / scale) + zeroPoint, qmin, qmax) and read back as (q - zeroPoint) * scale.
///
/// Asymmetric (the default for tensors): the range [min(x, 0), max(x, 0)] is spread over all 256 codes [-128, 127]
/// with an integer zero point, so 0 is represented exactly (zero padding and ReLU outputs stay exact).
/// Symmetric (the usual choice for weights): zeroPoint = 0 and scale = max|x| / 127 over the codes [-127, 127]
/// (the "restricted range" of TensorRT and ONNX Runtime: -128 is never used, so negation is exact).
/// Either way every x inside the range comes back within scale / 2. The same arithmetic as
/// torch.quantize_per_tensor / quantize_per_channel with qint8, written out so it runs on any device and can be
/// read; the integer codes are int8 tensors.
public static class Quantization
{
    /// The smallest step used, float32's machine epsilon as PyTorch's observers use: an all-zero tensor or channel
    /// still gets a valid (positive) scale, and a channel's step never exceeds the whole tensor's.
    public const double MinScale = 1.1920928955078125e-7;

    /// Quantises all of `x` (float32, any shape) with one scale and zero point, returned through `scale` and
    /// `zeroPoint` (reading them synchronises with the device once). Returns int8 codes of the same shape.
    public static Tensor QuantizePerTensor(Tensor x, out double scale, out long zeroPoint, bool symmetric = false)
    {
        CheckValues(x, nameof(x));
        using var scope = NewDisposeScope();
        if (symmetric)
        {
            var amax = x.abs().max().item<float>();
            scale = Math.Max(amax / 127.0, MinScale);
            zeroPoint = 0;
        }
        else
        {
            var lo = Math.Min(x.min().item<float>(), 0.0);
            var hi = Math.Max(x.max().item<float>(), 0.0);
            scale = Math.Max((hi - lo) / 255.0, MinScale);
            zeroPoint = (long)Math.Clamp(Math.Round(-128 - lo / scale, MidpointRounding.ToEven), -128, 127);
        }
        var qmin = symmetric ? -127 : -128;
        return x.div((float)scale).round_().add_(zeroPoint).clamp_(qmin, 127).to(ScalarType.Int8).MoveToOuterDisposeScope();
    }

    /// Back to float32: (q - zeroPoint) * scale.
    public static Tensor Dequantize(Tensor q, double scale, long zeroPoint)
    {
        CheckCodes(q, nameof(q));
        Guard.Positive(scale, nameof(scale));
        using var scope = NewDisposeScope();
        return q.to(ScalarType.Float32).sub_(zeroPoint).mul_((float)scale).MoveToOuterDisposeScope();
    }

    /// Quantises each slice of `x` along `axis` with its own scale and zero point: what networks do for weights
    /// (axis 0, the output channels), since one channel with large weights would otherwise coarsen every other
    /// channel's step. Returns the int8 codes (shape of x), the scales (C, float32) and the zero points (C, int64),
    /// all on x's device; no value is read back to the host.
    public static (Tensor Values, Tensor Scales, Tensor ZeroPoints) QuantizePerChannel(Tensor x, int axis, bool symmetric = false)
    {
        CheckValues(x, nameof(x));
        axis = CheckAxis(x, axis);
        using var scope = NewDisposeScope();
        var channels = x.shape[axis];
        var rows = x.movedim([axis], [0]).reshape(channels, -1);
        Tensor scales, zeroPoints;
        if (symmetric)
        {
            var amax = rows.abs().amax([1]);
            scales = (amax / 127f).clamp_min_(MinScale);
            zeroPoints = zeros(channels, ScalarType.Int64, device: x.device);
        }
        else
        {
            var lo = rows.amin([1]).clamp_max_(0);
            var hi = rows.amax([1]).clamp_min_(0);
            scales = ((hi - lo) / 255f).clamp_min_(MinScale);
            zeroPoints = (-128 - lo / scales).round_().clamp_(-128, 127).to(ScalarType.Int64);
        }
        var shape = BroadcastShape(x, axis);
        var codes = x.div(scales.view(shape)).round_().add_(zeroPoints.view(shape))
            .clamp_(symmetric ? -127 : -128, 127).to(ScalarType.Int8);
        return (codes.MoveToOuterDisposeScope(), scales.MoveToOuterDisposeScope(), zeroPoints.MoveToOuterDisposeScope());
    }

    /// Back to float32 from per-channel codes: (q - zeroPoints[c]) * scales[c] along `axis`.
    public static Tensor Dequantize(Tensor q, Tensor scales, Tensor zeroPoints, int axis)
    {
        CheckCodes(q, nameof(q));
        axis = CheckAxis(q, axis);
        ArgumentNullException.ThrowIfNull(scales);
        ArgumentNullException.ThrowIfNull(zeroPoints);
        var channels = q.shape[axis];
        if (scales.dim() != 1 || scales.shape[0] != channels)
            throw new ArgumentException($"scales must have shape ({channels}), one per slice along axis {axis}; got {Guard.Shape(scales)}.", nameof(scales));
        if (zeroPoints.dim() != 1 || zeroPoints.shape[0] != channels)
            throw new ArgumentException($"zeroPoints must have shape ({channels}), one per slice along axis {axis}; got {Guard.Shape(zeroPoints)}.", nameof(zeroPoints));
        Guard.SameDevice(q, scales, nameof(q), nameof(scales));
        Guard.SameDevice(q, zeroPoints, nameof(q), nameof(zeroPoints));
        using var scope = NewDisposeScope();
        var shape = BroadcastShape(q, axis);
        return q.to(ScalarType.Float32).sub_(zeroPoints.view(shape).to(ScalarType.Float32)).mul_(scales.to(ScalarType.Float32).view(shape))
            .MoveToOuterDisposeScope();
    }

    /// Fake quantisation of a trained network: every Linear and Conv1d/2d/3d weight in `module` is replaced, in
    /// place and under no_grad, by its quantised-then-dequantised copy (per output channel by default, symmetric by
    /// default, as int8 inference engines store weights). The network still runs in float32, but now computes with
    /// exactly the weights an int8 engine would use, so its accuracy shows what weight quantisation costs.
    /// Biases and activations are left in float (engines keep biases at 32 bits). Returns one report per layer.
    /// The weights stay on their device; the report's figures are read back once per layer.
    public static IReadOnlyList<QuantizedLayer> FakeQuantize(nn.Module module, bool perChannel = true, bool symmetric = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        var layers = new List<(string Name, nn.Module Layer)> { ("", module) };
        layers.AddRange(module.named_modules());
        var report = new List<QuantizedLayer>();
        using var noGrad = no_grad();
        foreach (var (name, layer) in layers)
        {
            var (weight, kind) = layer switch
            {
                Linear linear => (linear.weight, "Linear"),
                Conv1d conv => (conv.weight, "Conv1d"),
                Conv2d conv => (conv.weight, "Conv2d"),
                Conv3d conv => (conv.weight, "Conv3d"),
                _ => (null, ""),
            };
            if (weight is null || weight.dtype != ScalarType.Float32) continue;
            using var scope = NewDisposeScope();
            Tensor restored;
            double maxScale;
            if (perChannel)
            {
                var (codes, scales, zeroPoints) = QuantizePerChannel(weight, 0, symmetric);
                restored = Dequantize(codes, scales, zeroPoints, 0);
                maxScale = scales.max().item<float>();
            }
            else
            {
                var codes = QuantizePerTensor(weight, out var scale, out var zeroPoint, symmetric);
                restored = Dequantize(codes, scale, zeroPoint);
                maxScale = scale;
            }
            var maxError = (restored - weight).abs().max().item<float>();
            var maxWeight = weight.abs().max().item<float>();
            weight.copy_(restored);
            report.Add(new QuantizedLayer(name, kind, weight.shape, maxError, maxWeight, maxScale));
        }
        return report;
    }

    private static void CheckValues(Tensor x, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.dtype != ScalarType.Float32)
            throw new ArgumentException($"{name} must be float32 to be quantised; got {x.dtype}.", name);
        if (x.numel() == 0)
            throw new ArgumentException($"{name} is empty: shape {Guard.Shape(x)}.", name);
        if (!x.isfinite().all().item<bool>())
            throw new ArgumentException($"{name} contains NaN or infinite values, which have no int8 code.", name);
    }

    private static void CheckCodes(Tensor q, string name)
    {
        ArgumentNullException.ThrowIfNull(q, name);
        if (q.dtype != ScalarType.Int8)
            throw new ArgumentException($"{name} must be int8 codes from QuantizePerTensor or QuantizePerChannel; got {q.dtype}.", name);
    }

    /// Normalises a possibly negative axis and checks it names an axis of x.
    private static int CheckAxis(Tensor x, int axis)
    {
        var rank = (int)x.dim();
        var normalised = axis < 0 ? axis + rank : axis;
        if (normalised < 0 || normalised >= rank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"axis must name one of the {rank} axes of shape {Guard.Shape(x)}; got {axis}.");
        return normalised;
    }

    /// (1,..,C,..,1): per-channel values shaped to broadcast along `axis`.
    private static long[] BroadcastShape(Tensor x, int axis)
    {
        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        shape[axis] = x.shape[axis];
        return shape;
    }
}
