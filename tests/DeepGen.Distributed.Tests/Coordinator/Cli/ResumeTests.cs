using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Tests.Coordinator.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Cli;

/// <summary>
/// The coordinator process is killed (SIGKILL) in the middle of a run, and <c>deepgen train
/// --resume</c> continues it. With the same workers, the result equals the uninterrupted run's.
/// </summary>
public sealed class ResumeTests
{
    // 3,200 images / (2 × 32) = 50 steps per epoch, 3 epochs; checkpoints every 20 steps.
    private static readonly string[] RunArguments =
        ["--workers", "2", "--epochs", "3", "--batch-size", "32", "--train-limit", "3200", "--test-limit", "200", "--checkpoint-every", "20"];

    private static readonly Lazy<byte[]> UninterruptedWeights = new(TrainUninterrupted);

    [Fact]
    public void Resumed_run_matches_uninterrupted()
    {
        using var folder = new TemporaryDirectory();
        var run = Path.Combine(folder.Path, "run");

        var (killedExit, killedOutput) = Train([.. RunArguments, "--output", run, "--kill-at-step", "75"]);
        Assert.True(killedExit == 137, killedOutput);
        Assert.False(File.Exists(Path.Combine(run, "checkpoints", "final.ckpt")));

        var (exit, resumed) = Train(["--resume", run]);

        Assert.True(exit == 0, resumed);
        Assert.Contains("resuming from", resumed, StringComparison.Ordinal);
        Assert.Equal(UninterruptedWeights.Value, Checkpoint.Read(Path.Combine(run, "checkpoints", "final.ckpt")).Weights);
        var rows = MetricsRow.Read(run);
        Assert.Equal(Enumerable.Range(1, 150).Select(i => (long)i), rows.Select(r => r.Step));
    }

    [Fact]
    public void Corrupt_checkpoint_falls_back()
    {
        using var folder = new TemporaryDirectory();
        var run = Path.Combine(folder.Path, "run");
        var (killedExit, killedOutput) = Train([.. RunArguments, "--output", run, "--kill-at-step", "75"]);
        Assert.True(killedExit == 137, killedOutput);
        var checkpoints = CheckpointCatalog.All(run);
        Assert.True(checkpoints.Count >= 2, $"expected two checkpoints before step 75, found {checkpoints.Count}");
        var newest = checkpoints[0];
        var bytes = File.ReadAllBytes(newest.Path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(newest.Path, bytes);

        var (exit, resumed) = Train(["--resume", run]);

        Assert.True(exit == 0, resumed);
        Assert.Contains($"rejected, trying the checkpoint before it: Checkpoint {newest.Path}: corrupt: SHA-256 mismatch", resumed, StringComparison.Ordinal);
        Assert.Contains($"resuming from {checkpoints[1].Path}: step {checkpoints[1].Step}", resumed, StringComparison.Ordinal);
        Assert.Equal(UninterruptedWeights.Value, Checkpoint.Read(Path.Combine(run, "checkpoints", "final.ckpt")).Weights);
    }

    [Fact]
    public void Truncated_checkpoints_all_rejected()
    {
        using var folder = new TemporaryDirectory();
        var run = Path.Combine(folder.Path, "run");
        var (killedExit, killedOutput) = Train([.. RunArguments, "--output", run, "--kill-at-step", "45"]);
        Assert.True(killedExit == 137, killedOutput);
        var checkpoints = CheckpointCatalog.All(run);
        Assert.NotEmpty(checkpoints);
        foreach (var checkpoint in checkpoints)
        {
            using var file = new FileStream(checkpoint.Path, FileMode.Open);
            file.SetLength(file.Length / 3);
        }

        var rowsBefore = File.ReadAllText(Path.Combine(run, "metrics.csv"));
        var (exit, resumed) = Train(["--resume", run]);

        Assert.Equal(1, exit);
        Assert.All(checkpoints, c => Assert.Contains($"Checkpoint {c.Path}: truncated: expected", resumed, StringComparison.Ordinal));
        Assert.Contains($"none of the {checkpoints.Count} checkpoints is valid", resumed, StringComparison.Ordinal);
        Assert.Equal(rowsBefore, File.ReadAllText(Path.Combine(run, "metrics.csv")));
    }

    [Fact]
    public void Resume_without_checkpoints_fails()
    {
        using var folder = new TemporaryDirectory();

        var (exit, output) = Train(["--resume", folder.Path]);

        Assert.Equal(1, exit);
        Assert.Contains("no checkpoint found", output, StringComparison.Ordinal);
        Assert.Contains("--checkpoint-every", output, StringComparison.Ordinal);
    }

    private static byte[] TrainUninterrupted()
    {
        using var folder = new TemporaryDirectory();
        var run = Path.Combine(folder.Path, "run");
        var (exit, output) = Train([.. RunArguments, "--output", run]);
        Assert.True(exit == 0, output);
        return Checkpoint.Read(Path.Combine(run, "checkpoints", "final.ckpt")).Weights;
    }

    private static (int ExitCode, string Output) Train(string[] arguments) =>
        ProcessRunner.Run("dotnet", new[] { ProcessRunner.Program("deepgen"), "train" }.Concat(arguments), TimeSpan.FromMinutes(4));
}
