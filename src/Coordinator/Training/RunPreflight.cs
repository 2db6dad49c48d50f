using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;

namespace DeepGen.Distributed.Coordinator.Training;

/// <summary>
/// Checks that depend on the data or on files, made before a run starts so that a run that
/// cannot finish is rejected at once instead of failing after hours. Each returns the error, or null.
/// </summary>
public static class RunPreflight
{
    /// <summary>
    /// Rejects runs in which a rank would get fewer than 2 images in some step, for models with
    /// BatchNorm (the classifier and the DCGAN): BatchNorm cannot normalise a single image in
    /// training mode. The smallest batch is the last step of the smallest shard.
    /// </summary>
    public static string? CheckBatchNormBatches(TrainingConfig config, int trainingImages)
    {
        var usesBatchNorm = config.Model == "classifier" || (config.Model == "gan" && config.GanArchitecture == "dcgan");
        if (!usesBatchNorm)
        {
            return null;
        }

        var batch = config.BatchSizePerWorker;
        var sampler = new DistributedSampler(trainingImages, config.Workers, config.Seed);
        var steps = sampler.StepsPerEpoch(batch);
        var smallest = Math.Max(0, (trainingImages / config.Workers) - ((steps - 1) * batch));
        return smallest >= 2
            ? null
            : $"--batch-size {batch} with --workers {config.Workers} on {trainingImages} training images leaves {smallest} image(s) on a rank in the last step of each epoch, " +
              $"but the {config.Model}'s BatchNorm needs at least 2. Choose a --batch-size or --train-limit that leaves every rank at least 2 images in every step" +
              (config.Model == "gan" ? ", or --gan-architecture mlp." : ".");
    }

    /// <summary>Checks that <see cref="TrainingConfig.FidClassifier"/> is a readable checkpoint of a classifier run.</summary>
    public static string? CheckFidClassifier(TrainingConfig config)
    {
        if (config.Model != "gan" || config.FidClassifier.Length == 0)
        {
            return null;
        }

        try
        {
            var checkpoint = Checkpoint.Read(config.FidClassifier);
            return checkpoint.Config.Model == "classifier"
                ? null
                : $"--fid-classifier {config.FidClassifier} is a checkpoint of a {checkpoint.Config.Model} run, not of a classifier; pass checkpoints/final.ckpt of a --model classifier run, or models/fashion-mnist-classifier.ckpt.";
        }
        catch (CheckpointException error)
        {
            return $"--fid-classifier: {error.Message}";
        }
    }
}
