using TorchSharp;

namespace DeepGen.Distributed.Training;

/// <summary>Loads libtorch once per process and turns a load failure into an actionable error.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<string> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads TorchSharp's native libraries and returns the libtorch build description.</summary>
    /// <exception cref="InvalidOperationException">The native library cannot be loaded.</exception>
    public static string EnsureLoaded() => Loaded.Value;

    private static string Load()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            using var probe = torch.ones(1);
            return $"libtorch {torch.__version__} ({torch.get_num_threads()} intra-op threads)";
        }
        catch (Exception error) when (error is DllNotFoundException or NotSupportedException or TypeInitializationException)
        {
            throw new InvalidOperationException(
                "TorchSharp could not load libtorch. On Debian 12 the build marks libLibTorchSharp.so's GLIBCXX_3.4.32 " +
                "requirement weak; rebuild with 'dotnet build' (not a copy of another machine's output) and check that " +
                "bin/*/runtimes/linux-x64/native/libLibTorchSharp.so exists. Loader error: " + error.Message, error);
        }
    }
}
