namespace DeepGen.Distributed.Tests.Coordinator.Benchmarks;

/// <summary>The benchmark command end to end on tiny sizes; its figures are not checked, only that it measures and reports.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public void Bench_prints_allreduce_and_training_rows()
    {
        var (exitCode, output) = ProcessRunner.Run(
            "dotnet",
            [ProcessRunner.Program("deepgen"), "bench", "--world-sizes", "1,3", "--sizes", "4096,1000000", "--iterations", "2", "--steps", "3", "--batch-size", "16", "--gan-steps", "2", "--gan-batch-size", "8"],
            TimeSpan.FromMinutes(3));

        Assert.True(exitCode == 0, output);
        Assert.Contains("| 1 | 4 KiB |", output, StringComparison.Ordinal);
        Assert.Contains("| 3 | 976.56 KiB |", output, StringComparison.Ordinal);
        Assert.Contains("| VAE 784-400-20 | 2 × 1 | 16 |", output, StringComparison.Ordinal);
        Assert.Contains("| DCGAN (one D and one G step) | 2 × 1 | 8 |", output, StringComparison.Ordinal);
        Assert.Contains("Peer ddp_vae.py: no --peer-dir given", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_rejects_invalid_sizes()
    {
        var (exitCode, output) = ProcessRunner.Run("dotnet", [ProcessRunner.Program("deepgen"), "bench", "--sizes", "abc"], TimeSpan.FromMinutes(1));

        Assert.Equal(2, exitCode);
        Assert.Contains("Invalid benchmark option", output, StringComparison.Ordinal);
    }
}
