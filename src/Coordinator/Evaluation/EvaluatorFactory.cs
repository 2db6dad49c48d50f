using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;

namespace DeepGen.Distributed.Coordinator.Evaluation;

/// <summary>Creates the evaluator of a run's model family.</summary>
public static class EvaluatorFactory
{
    /// <exception cref="CheckpointException">The FID classifier checkpoint is missing or corrupt.</exception>
    public static IEvaluator Create(TrainingConfig config, ImageDataset testSet, ImageDataset trainSet) => config.Model switch
    {
        "vae" => new VaeEvaluator(testSet, new VaeOptions(testSet.PixelsPerImage, config.HiddenSize, config.LatentSize), config.Seed),
        "autoencoder" => new AutoencoderEvaluator(testSet, trainSet, new AutoencoderOptions(testSet.PixelsPerImage, config.LatentSize)),
        "classifier" => new ClassifierEvaluator(testSet),
        "gan" => new GanEvaluator(
            testSet,
            config.GanArchitecture,
            new DcganOptions(config.LatentSize),
            config.FidClassifier.Length > 0 ? Checkpoint.Read(config.FidClassifier).Weights : null,
            config.Seed),
        _ => throw new ArgumentException($"Model '{config.Model}' has no evaluator.", nameof(config)),
    };
}
