using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Training;

public sealed class RunPreflightTests
{
    [Theory]
    [InlineData("classifier", "dcgan", 1, 2, 60000, false)]
    [InlineData("classifier", "dcgan", 64, 2, 60000, true)]
    [InlineData("classifier", "dcgan", 64, 2, 130, false)]   // shards of 65: 64 then 1
    [InlineData("classifier", "dcgan", 64, 2, 132, true)]    // shards of 66: 64 then 2
    [InlineData("gan", "dcgan", 64, 3, 200, true)]           // shards of 66 and 67: 64 then 2 or 3
    [InlineData("gan", "dcgan", 64, 3, 196, false)]          // shards of 65 and 66: 64 then 1 or 2
    [InlineData("gan", "mlp", 64, 2, 130, true)]             // no BatchNorm
    [InlineData("vae", "dcgan", 1, 2, 130, true)]
    public void Batchnorm_needs_two_images_per_rank_and_step(string model, string architecture, int batch, int workers, int images, bool accepted)
    {
        var config = new TrainingConfig(Model: model, GanArchitecture: architecture, BatchSizePerWorker: batch, Workers: workers);

        var error = RunPreflight.CheckBatchNormBatches(config, images);

        Assert.Equal(accepted, error is null);
        if (error is not null)
        {
            Assert.Contains($"--batch-size {batch}", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Checkpoint_of_another_model_is_not_a_fid_classifier()
    {
        using var folder = new TemporaryDirectory();
        var path = folder.File("vae.ckpt");
        DeepGen.Distributed.Coordinator.Output.Checkpoint.Write(path, new(new TrainingConfig(Model: "vae"), 1, 10, [1, 2, 3]));

        var error = RunPreflight.CheckFidClassifier(new TrainingConfig(Model: "gan", FidClassifier: path));

        Assert.NotNull(error);
        Assert.Contains("a vae run, not of a classifier", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_file_is_not_a_fid_classifier()
    {
        using var folder = new TemporaryDirectory();
        var path = folder.File("notes.txt");
        File.WriteAllText(path, "not a checkpoint");

        var error = RunPreflight.CheckFidClassifier(new TrainingConfig(Model: "gan", FidClassifier: path));

        Assert.NotNull(error);
        Assert.StartsWith("--fid-classifier: ", error, StringComparison.Ordinal);
        Assert.Contains(path, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Stored_classifier_is_accepted()
    {
        var path = Path.Combine(ProcessRunner.RepositoryRoot, "models", "fashion-mnist-classifier.ckpt");

        Assert.Null(RunPreflight.CheckFidClassifier(new TrainingConfig(Model: "gan", FidClassifier: path)));
    }
}
