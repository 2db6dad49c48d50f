using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Worker.Training;

/// <summary>Creates the replica of a run's model family and its seeded initial state.</summary>
public static class ReplicaFactory
{
    /// <summary>
    /// Creates the model with the run's seed and returns its encoded initial state, which every rank loads.
    /// The seeding and the construction hold <see cref="DefaultGenerator"/>'s lock, so the same seed gives the
    /// same weights while other runs in the process build models at the same time.
    /// </summary>
    public static byte[] InitialWeights(TrainingConfig config, int rows, int columns) => config.Model switch
    {
        "vae" => VaeReplica.InitialWeights(config, rows * columns),
        "gan" => GanReplica.InitialWeights(GanSettings(config)),
        "autoencoder" => AutoencoderReplica.InitialWeights(config, rows * columns),
        "classifier" => ClassifierReplica.InitialWeights(config),
        _ => throw new ArgumentException($"Model '{config.Model}' has no data-parallel replica.", nameof(config)),
    };

    /// <summary>Creates a replica that starts from <paramref name="weights"/>.</summary>
    public static IReplica Create(TrainingConfig config, int rows, int columns, ReadOnlySpan<byte> weights) => config.Model switch
    {
        "vae" => new VaeReplica(config, rows * columns, weights),
        "gan" => new GanReplica(GanSettings(config), weights),
        "autoencoder" => new AutoencoderReplica(config, rows * columns, weights),
        "classifier" => new ClassifierReplica(config, weights),
        _ => throw new ArgumentException($"Model '{config.Model}' has no data-parallel replica.", nameof(config)),
    };

    /// <summary>The GAN settings of a run; a learning rate of 0 takes the DCGAN default 2e-4.</summary>
    public static GanReplicaSettings GanSettings(TrainingConfig config) => new(
        BatchSizePerWorker: config.BatchSizePerWorker,
        Seed: config.Seed,
        LatentSize: config.LatentSize,
        DiscriminatorLearningRate: config.DiscriminatorLearningRate > 0 ? config.DiscriminatorLearningRate : 2e-4,
        GeneratorLearningRate: config.GeneratorLearningRate > 0 ? config.GeneratorLearningRate : 2e-4,
        ThreadsPerWorker: config.ThreadsPerWorker,
        Architecture: config.GanArchitecture,
        DiscriminatorSteps: config.DiscriminatorSteps,
        InjectNanAtStep: config.InjectNanAtStep);
}
