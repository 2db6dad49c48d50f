using System.Net;
using System.Net.Sockets;

namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>The deploy script: one coordinator and two worker processes joined through a seed node on loopback.</summary>
public sealed class LocalClusterScriptTests
{
    [Fact]
    public void Script_trains_with_three_processes()
    {
        using var folder = new TemporaryDirectory();
        var runDirectory = Path.Combine(folder.Path, "run");

        var (exitCode, output) = ProcessRunner.Run(
            Path.Combine(ProcessRunner.RepositoryRoot, "deploy", "local-cluster.sh"),
            ["--epochs", "1", "--batch-size", "32", "--train-limit", "1600", "--test-limit", "200", "--output", runDirectory],
            TimeSpan.FromMinutes(4),
            new Dictionary<string, string> { ["DEEPGEN_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(exitCode == 0, output);
        Assert.Contains("worker worker-0: node akka.tcp://deepgen@127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Contains("worker worker-1: node akka.tcp://deepgen@127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Contains("finished after 25 steps", output, StringComparison.Ordinal);
        Assert.Equal(26, File.ReadAllLines(Path.Combine(runDirectory, "metrics.csv")).Length);
    }

    [Fact]
    public void Invalid_option_is_rejected_with_its_name()
    {
        var (exitCode, output) = ProcessRunner.Run("dotnet", [ProcessRunner.Program("deepgen"), "train", "--lr", "-1", "--workers", "0"], TimeSpan.FromMinutes(1));

        Assert.Equal(2, exitCode);
        Assert.Contains("--lr -1 is invalid", output, StringComparison.Ordinal);
        Assert.Contains("--workers 0 is invalid", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_data_folder_names_folder_and_fix()
    {
        using var folder = new TemporaryDirectory();
        var (exitCode, output) = ProcessRunner.Run(
            "dotnet",
            [ProcessRunner.Program("deepgen"), "train", "--data", Path.Combine(folder.Path, "nowhere"), "--output", Path.Combine(folder.Path, "run")],
            TimeSpan.FromMinutes(1));

        Assert.Equal(1, exitCode);
        Assert.Contains(Path.Combine(folder.Path, "nowhere"), output, StringComparison.Ordinal);
        Assert.Contains("apt-get install dataset-fashion-mnist", output, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
