using System.Globalization;

namespace DeepGen.Distributed.Configuration;

/// <summary>
/// Everything that defines a training run. It is written to the run folder and sent to every
/// worker, so that all replicas train with the same settings.
/// </summary>
/// <param name="Model">Model family: <c>vae</c>, <c>autoencoder</c>, <c>gan</c> or <c>classifier</c>.</param>
/// <param name="Workers">World size: the number of data-parallel workers.</param>
/// <param name="Epochs">Passes over the training set.</param>
/// <param name="BatchSizePerWorker">Samples per worker per step; the global batch is this times <paramref name="Workers"/>.</param>
/// <param name="LearningRate">Optimizer learning rate.</param>
/// <param name="Optimizer"><c>adam</c> or <c>sgd</c>.</param>
/// <param name="Seed">Seeds the initial weights, the per-epoch permutation and the reparameterisation noise.</param>
/// <param name="HiddenSize">VAE hidden layer width.</param>
/// <param name="LatentSize">VAE latent dimension.</param>
/// <param name="Beta">Weight β of the KL term.</param>
/// <param name="WeightDecay">L2 coefficient λ of λΣ‖w‖² over the weight matrices.</param>
/// <param name="DataDirectory">Folder holding the four Fashion-MNIST (or MNIST) IDX files.</param>
/// <param name="TrainLimit">Use only the first N training images (0 = all); for quick runs and tests.</param>
/// <param name="TestLimit">Use only the first N test images (0 = all).</param>
/// <param name="ThreadsPerWorker">libtorch intra-op threads per worker process.</param>
/// <param name="CollectiveTimeoutSeconds">How long a gradient all-reduce may wait for a peer.</param>
/// <param name="ChecksumEverySteps">Compare a parameter checksum across replicas every N steps (0 = only at epoch ends).</param>
/// <param name="WireFormat">Gradient format on the data plane: <c>fp32</c> (exact), <c>fp16</c> or <c>bf16</c> (half the bytes, rounded).</param>
/// <param name="GanArchitecture"><c>dcgan</c> (with BatchNorm) or <c>mlp</c> (without).</param>
/// <param name="DiscriminatorLearningRate">α_D of the GAN; 0 takes 2e-4.</param>
/// <param name="GeneratorLearningRate">α_G of the GAN; 0 takes 2e-4.</param>
/// <param name="DiscriminatorSteps">Discriminator steps before each generator step.</param>
/// <param name="EvaluateEverySteps">Also evaluate a snapshot every N steps (0 = only at epoch ends).</param>
/// <param name="FidClassifier">Checkpoint of the classifier whose features the GAN's Fréchet distance uses; empty skips it.</param>
/// <param name="InjectNanAtStep">Fault injection for recovery tests: make the loss NaN at this step (0 = never).</param>
/// <param name="LearningRateSchedule"><c>constant</c>, or <c>cosine</c> decay from the base rate towards 0 over the whole run.</param>
/// <param name="DeletionAugmentation">Classifier only: share of training images in which a random fraction (up to half) of the pixels is replaced with the dataset mean.</param>
/// <param name="MinWorkers">Smallest world size the run trains with; below it the run pauses until workers join. 0 takes <paramref name="Workers"/>.</param>
/// <param name="CheckpointEverySteps">Also write a checkpoint every N steps (0 = at epoch ends only).</param>
/// <param name="KeepCheckpoints">Number of step and epoch checkpoints kept; older ones are deleted (final.ckpt is always kept).</param>
public sealed record TrainingConfig(
    string Model = "vae",
    int Workers = 2,
    int Epochs = 5,
    int BatchSizePerWorker = 128,
    double LearningRate = 1e-3,
    string Optimizer = "adam",
    int Seed = 1,
    int HiddenSize = 400,
    int LatentSize = 20,
    double Beta = 1.0,
    double WeightDecay = 0.0,
    string DataDirectory = Data.FashionMnist.DefaultDirectory,
    int TrainLimit = 0,
    int TestLimit = 0,
    int ThreadsPerWorker = 1,
    double CollectiveTimeoutSeconds = 30,
    int ChecksumEverySteps = 0,
    string WireFormat = "fp32",
    string GanArchitecture = "dcgan",
    double DiscriminatorLearningRate = 0,
    double GeneratorLearningRate = 0,
    int DiscriminatorSteps = 1,
    int EvaluateEverySteps = 0,
    string FidClassifier = "",
    long InjectNanAtStep = 0,
    string LearningRateSchedule = "constant",
    double DeletionAugmentation = 0,
    int MinWorkers = 0,
    int CheckpointEverySteps = 0,
    int KeepCheckpoints = 3)
{
    /// <summary>Smallest world size the run trains with: <see cref="MinWorkers"/>, or <see cref="Workers"/> when it is 0.</summary>
    public int EffectiveMinWorkers => MinWorkers == 0 ? Workers : MinWorkers;

    /// <summary>The model family of <see cref="Model"/>.</summary>
    public ModelFamily Family => ModelFamily.All[Model];

    /// <summary>Accepted values of <see cref="WireFormat"/>.</summary>
    public static readonly IReadOnlyDictionary<string, Collectives.WireFormat> WireFormats = new Dictionary<string, Collectives.WireFormat>(StringComparer.Ordinal)
    {
        ["fp32"] = Collectives.WireFormat.Fp32,
        ["fp16"] = Collectives.WireFormat.Fp16,
        ["bf16"] = Collectives.WireFormat.Bf16,
    };

    /// <summary>Global batch size: samples averaged into one optimizer step.</summary>
    public int GlobalBatchSize => BatchSizePerWorker * Workers;

    /// <summary>Returns every invalid value with the fix, or an empty list.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!ModelFamily.All.ContainsKey(Model))
        {
            errors.Add($"--model '{Model}' is not available; use one of {string.Join(", ", ModelFamily.All.Keys)}.");
        }

        if (GanArchitecture is not ("dcgan" or "mlp"))
        {
            errors.Add($"--gan-architecture '{GanArchitecture}' is not available; use dcgan or mlp.");
        }

        foreach (var (option, rate) in new[] { ("--lr-discriminator", DiscriminatorLearningRate), ("--lr-generator", GeneratorLearningRate) })
        {
            if (!(rate >= 0) || double.IsInfinity(rate))
            {
                errors.Add($"{option} {Format(rate)} is invalid; give a positive learning rate such as 0.0002, or 0 for the default.");
            }
        }

        InRange(errors, "--d-steps", DiscriminatorSteps, 1, 100);
        if (EvaluateEverySteps < 0)
        {
            errors.Add($"--eval-every {EvaluateEverySteps} is invalid; use 0 (epoch ends only) or a positive step count.");
        }

        if (FidClassifier.Length > 0 && !File.Exists(FidClassifier))
        {
            errors.Add($"--fid-classifier {FidClassifier} does not exist; train one with 'deepgen train --model classifier' and pass its checkpoints/final.ckpt, or omit the option.");
        }

        if (!Training.LearningRateSchedule.Names.Contains(LearningRateSchedule))
        {
            errors.Add($"--lr-schedule '{LearningRateSchedule}' is not available; use {string.Join(" or ", Training.LearningRateSchedule.Names)}.");
        }

        if (!(DeletionAugmentation >= 0 && DeletionAugmentation <= 1))
        {
            errors.Add($"--deletion-augmentation {Format(DeletionAugmentation)} is invalid; give a share of images from 0 to 1.");
        }

        if (InjectNanAtStep < 0)
        {
            errors.Add($"--inject-nan-at-step {InjectNanAtStep} is invalid; use 0 (never) or a step number.");
        }

        if (!string.Equals(Optimizer, "adam", StringComparison.Ordinal) && !string.Equals(Optimizer, "sgd", StringComparison.Ordinal))
        {
            errors.Add($"--optimizer '{Optimizer}' is not available; use 'adam' or 'sgd'.");
        }

        InRange(errors, "--workers", Workers, 1, 256);
        if (MinWorkers < 0 || MinWorkers > Workers)
        {
            errors.Add($"--min-workers {MinWorkers} is invalid; give a number from 1 to --workers ({Workers}), or 0 to require all of them.");
        }

        if (CheckpointEverySteps < 0)
        {
            errors.Add($"--checkpoint-every {CheckpointEverySteps} is invalid; use 0 (epoch ends only) or a positive step count.");
        }

        InRange(errors, "--keep-checkpoints", KeepCheckpoints, 1, 1_000);
        InRange(errors, "--epochs", Epochs, 1, 1_000_000);
        InRange(errors, "--batch-size", BatchSizePerWorker, 1, 65_536);
        InRange(errors, "--hidden-size", HiddenSize, 1, 16_384);
        InRange(errors, "--latent-size", LatentSize, 1, 4_096);
        InRange(errors, "--threads", ThreadsPerWorker, 1, 256);
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            errors.Add($"--lr {Format(LearningRate)} is invalid; the learning rate must be a positive finite number such as 0.001.");
        }

        if (!(Beta >= 0) || double.IsInfinity(Beta))
        {
            errors.Add($"--beta {Format(Beta)} is invalid; β must be a finite number ≥ 0 (1 gives the ELBO).");
        }

        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay))
        {
            errors.Add($"--weight-decay {Format(WeightDecay)} is invalid; λ must be a finite number ≥ 0.");
        }

        if (TrainLimit < 0)
        {
            errors.Add($"--train-limit {TrainLimit} is invalid; use 0 for the whole training set or a positive count.");
        }

        if (TestLimit < 0)
        {
            errors.Add($"--test-limit {TestLimit} is invalid; use 0 for the whole test set or a positive count.");
        }

        if (!(CollectiveTimeoutSeconds > 0) || CollectiveTimeoutSeconds > 86_400)
        {
            errors.Add($"--collective-timeout {Format(CollectiveTimeoutSeconds)} is invalid; give a number of seconds above 0 and at most 86400.");
        }

        if (ChecksumEverySteps < 0)
        {
            errors.Add($"--checksum-every {ChecksumEverySteps} is invalid; use 0 (epoch ends only) or a positive step count.");
        }

        if (!WireFormats.ContainsKey(WireFormat))
        {
            errors.Add($"--wire-format '{WireFormat}' is not available; use fp32, fp16 or bf16.");
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("--data is empty; give the folder that holds the Fashion-MNIST IDX files.");
        }

        return errors;
    }

    private static void InRange(List<string> errors, string option, int value, int minimum, int maximum)
    {
        if (value < minimum || value > maximum)
        {
            errors.Add($"{option} {value} is invalid; it must be from {minimum} to {maximum}.");
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
