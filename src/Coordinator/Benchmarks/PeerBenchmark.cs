using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace DeepGen.Distributed.Coordinator.Benchmarks;

/// <summary>
/// Runs a PyTorch DistributedDataParallel peer script (gloo, CPU, loopback) with the same world
/// size, steps, batch and threads, and reads the samples/s it prints.
/// </summary>
public static partial class PeerBenchmark
{
    /// <summary>Interpreter with Debian's python3-torch.</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>Returns the peer's samples/s, or null with the reason when it cannot run here.</summary>
    public static (double? SamplesPerSecond, string Detail) Run(string script, int workers, int steps, int batchPerWorker, int threads, TimeSpan timeout)
    {
        if (!File.Exists(script))
        {
            return (null, $"peer script {script} not found; pass --peer-dir with the folder that holds ddp_vae.py and ddp_gan.py");
        }

        if (!File.Exists(Python))
        {
            return (null, $"{Python} not found; install python3-torch to run the PyTorch peer");
        }

        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new object[] { script, workers, steps, batchPerWorker, threads }.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture)!))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (null, $"{Path.GetFileName(script)} did not finish within {timeout.TotalSeconds:0} s");
        }

        var text = output.Result;
        var match = SamplesPerSecond().Match(text);
        if (process.ExitCode != 0 || !match.Success)
        {
            var reason = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "no output";
            return (null, $"{Path.GetFileName(script)} failed (exit code {process.ExitCode}): {reason}");
        }

        return (double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), text.Trim());
    }

    [GeneratedRegex(@"samples/s=([0-9.]+)")]
    private static partial Regex SamplesPerSecond();
}
