using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Output;

namespace DeepGen.Distributed.Tests.Output;

/// <summary>Checkpoints that hold a whole training state: optimizer, sample position, and the rolling set of recent files.</summary>
public sealed class TrainingStateCheckpointTests : IDisposable
{
    private static readonly TrainingConfig Config = new(Workers: 2, Epochs: 4, Seed: 3);

    private readonly TemporaryDirectory folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Optimizer_state_and_position_round_trip()
    {
        var path = folder.File("step.ckpt");
        var written = new CheckpointData(Config, 1, 170, [1, 2, 3, 4], 2048, [9, 8, 7, 6, 5]);

        Checkpoint.Write(path, written);
        var read = Checkpoint.Read(path);

        Assert.Equal(170, read.Step);
        Assert.Equal(1, read.Epoch);
        Assert.Equal(2048, read.Position);
        Assert.Equal(written.Weights, read.Weights);
        Assert.Equal(written.OptimizerState, read.OptimizerState);
        Assert.Contains("(config.seed, step)", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Version_1_checkpoint_still_reads_as_weights_only()
    {
        var classifier = Checkpoint.Read(Path.Combine(ProcessRunner.RepositoryRoot, "models", "fashion-mnist-classifier.ckpt"));

        Assert.Equal("classifier", classifier.Config.Model);
        Assert.Null(classifier.OptimizerState);
        Assert.Equal(0, classifier.Position);
    }

    [Fact]
    public void Old_checkpoints_are_pruned()
    {
        var run = folder.File("run");
        using (var output = RunOutput.Create(run, Config))
        {
            output.WriteCheckpoint("final.ckpt", new CheckpointData(Config, 0, 0, [0]), keep: 2);
            output.WriteCheckpoint(CheckpointCatalog.StepFileName(20), new CheckpointData(Config, 0, 20, [1]), keep: 2);
            output.WriteCheckpoint("epoch-001.ckpt", new CheckpointData(Config, 1, 50, [2]), keep: 2);
            output.WriteCheckpoint(CheckpointCatalog.StepFileName(60), new CheckpointData(Config, 1, 60, [3]), keep: 2);
        }

        var left = CheckpointCatalog.All(run).Select(c => Path.GetFileName(c.Path)).ToList();

        Assert.Equal(["final.ckpt", "step-00000060.ckpt", "epoch-001.ckpt"], left);
        Assert.Equal([60L, 50L], CheckpointCatalog.Rolling(run).Select(c => c.Step));
    }

    [Fact]
    public void Resumed_output_drops_rows_after_the_checkpoint_step()
    {
        var run = folder.File("resumed");
        using (var output = RunOutput.Create(run, Config))
        {
            for (var step = 1; step <= 5; step++)
            {
                output.AppendStep(step, 1, 10 - step, [1, 2], 100, 0.1, 0.01, 2, 64);
            }

            output.AppendEvaluation(1, 2, [1, 2, 3]);
            output.AppendEvaluation(1, 5, [1, 2, 3]);
        }

        using (var resumed = RunOutput.Resume(run, 3))
        {
            resumed.AppendStep(4, 1, 7, [1, 2], 100, 0.1, 0.01, 2, 64);
        }

        var metrics = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.Equal(["1", "2", "3", "4"], metrics.Skip(1).Select(l => l.Split(',')[0]));
        var evaluation = File.ReadAllLines(Path.Combine(run, "evaluation.csv"));
        Assert.Equal(["1,2,1,2,3"], evaluation.Skip(1));
    }

    [Fact]
    public void Resume_of_non_run_folder_fails()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RunOutput.Resume(folder.File("empty"), 3));

        Assert.Contains("metrics.csv is missing", error.Message, StringComparison.Ordinal);
    }
}
