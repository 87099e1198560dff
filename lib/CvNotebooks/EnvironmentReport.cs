using System.Reflection;
using System.Runtime.InteropServices;

namespace CvNotebooks;

/// What a notebook runs on: versions of the runtime and the libraries, the device, the data found.
public sealed record EnvironmentReport(
    string DotNet, string Os, int Cores, string OpenCv, string OpenCvSharp, string TorchSharp, string LibTorch, string Device)
{
    public static EnvironmentReport Collect()
    {
        var device = Devices.Best();
        return new EnvironmentReport(
            DotNet: RuntimeInformation.FrameworkDescription,
            Os: RuntimeInformation.OSDescription,
            Cores: Environment.ProcessorCount,
            OpenCv: global::OpenCvSharp.Cv2.GetVersionString() ?? "unknown",
            OpenCvSharp: InformationalVersion(typeof(global::OpenCvSharp.Mat).Assembly),
            TorchSharp: InformationalVersion(typeof(global::TorchSharp.torch).Assembly),
            LibTorch: global::TorchSharp.torch.__version__,
            Device: Devices.Describe(device));
    }

    private static string InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";
}
