using TorchSharp;
using static TorchSharp.torch;

namespace CvNotebooks;

/// Where tensors run. Kernels take the device of their input; notebooks start from Best().
public static class Devices
{
    /// CUDA when a device is present, else the CPU.
    public static Device Best() => cuda.is_available() ? CUDA : CPU;

    /// Every device this machine can run on: the CPU, then each CUDA device.
    public static IReadOnlyList<Device> Available()
    {
        var list = new List<Device> { CPU };
        if (cuda.is_available())
            for (var i = 0; i < cuda.device_count(); i++) list.Add(new Device(DeviceType.CUDA, i));
        return list;
    }

    /// One line a learner can read: which device and why.
    public static string Describe(Device device) => device.type switch
    {
        DeviceType.CUDA => $"CUDA device {device.index} ({cuda.device_count()} present)",
        DeviceType.CPU => $"CPU ({Environment.ProcessorCount} cores, {torch.get_num_threads()} torch threads){(cuda.is_available() ? "" : "; no CUDA device present")}",
        _ => device.ToString(),
    };
}
