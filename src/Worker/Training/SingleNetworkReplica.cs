using System.Diagnostics;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Worker.Training;

/// <summary>
/// The data-parallel step shared by models with one network and one optimizer (the autoencoder
/// and the classifier). One all-reduce carries the gradients, then the loss and term sums, then
/// the BatchNorm running statistics, which are averaged so that replicas stay identical.
/// </summary>
public abstract class SingleNetworkReplica : IReplica
{
    private readonly FlatOptimizer _optimizer;
    private readonly GradientBucket _bucket;
    private readonly IReadOnlyList<Tensor> _runningStatistics;
    private readonly int _termCount;
    private readonly BatchTensorCache _inputs;

    protected SingleNetworkReplica(TrainingConfig config, nn.Module network, int termCount)
    {
        Config = config;
        Network = network;
        _termCount = termCount;
        network.train();
        var parameters = network.parameters().ToList();
        _optimizer = config.Optimizer == "sgd" ? new FlatSgd(parameters, config.LearningRate) : new FlatAdam(parameters, config.LearningRate);
        _runningStatistics = ModuleBuffers.FloatBuffers(network);
        _bucket = new GradientBucket(parameters, extraSlots: 1 + termCount + _runningStatistics.Sum(b => (int)b.numel()));
        _inputs = new BatchTensorCache(InputShape);
    }

    protected TrainingConfig Config { get; }

    protected nn.Module Network { get; }

    /// <summary>Mean pixel value of the training data, in [0, 1], computed at the first step.</summary>
    protected float MeanPixelValue { get; private set; } = float.NaN;

    /// <inheritdoc />
    public StepMetrics Step(ImageDataset data, ReadOnlySpan<int> batch, long step, int rank, int worldSize, int globalBatchSize, RingCollective ring)
    {
        var clock = Stopwatch.StartNew();
        var phases = StepPhaseTimer.Start(rank);
        if (float.IsNaN(MeanPixelValue))
        {
            MeanPixelValue = (float)data.MeanPixelValue();
        }

        var x = _inputs.Fill(data, batch);
        using var scope = torch.NewDisposeScope();
        var labels = torch.tensor(batch.ToArray().Select(i => (long)data.Labels[i]).ToArray());
        phases.Next(StepPhase.ForwardBackward);

        Network.zero_grad();

        var (loss, termSums) = Forward(x, labels, globalBatchSize, worldSize, step, rank);

        loss.backward();

        // NOTE: As for the VAE, the all-reduce starts after the whole backward pass because
        // TorchSharp 0.107 has no tensor backward hooks.
        _bucket.Gather();
        var extras = _bucket.Extras;
        extras[0] = step == Config.InjectNanAtStep ? float.NaN : loss.item<float>();
        for (var t = 0; t < _termCount; t++)
        {
            extras[1 + t] = (float)termSums[t];
        }

        RunningStatistics.CopyTo(_runningStatistics, extras[(1 + _termCount)..]);
        _bucket.Control = Control;
        var reduceClock = Stopwatch.StartNew();
        var sentBefore = ring.BytesSent;
        phases.Next(StepPhase.AllReduce);
        ring.AllReduceSum(_bucket.Buffer);
        var allReduceSeconds = reduceClock.Elapsed.TotalSeconds;
        Control = _bucket.Control;
        phases.TagAllReduce(ring.BytesSent - sentBefore, worldSize);
        var total = (double)_bucket.Extras[0];
        if (!double.IsFinite(total))
        {
            throw new ArithmeticException($"The training loss is {total} at step {step}; lower --lr or check the data.");
        }

        phases.Next(StepPhase.Optimizer);
        _optimizer.Step(_bucket.Buffer);
        RunningStatistics.AverageFrom(_runningStatistics, _bucket.Extras[(1 + _termCount)..], worldSize);

        var phaseSeconds = phases.Stop();
        var seconds = clock.Elapsed.TotalSeconds;
        DeepGenTelemetry.StepDuration.Record(seconds);
        DeepGenTelemetry.AllReduceDuration.Record(allReduceSeconds);
        DeepGenTelemetry.Samples.Add(batch.Length);
        var terms = Enumerable.Range(0, _termCount).Select(t => (double)_bucket.Extras[1 + t]).ToList();
        return new StepMetrics(total, terms, globalBatchSize, seconds, allReduceSeconds) { PhaseSeconds = phaseSeconds };
    }

    /// <inheritdoc />
    public void SetLearningRateScale(double scale) => _optimizer.LearningRateScale = scale;

    /// <inheritdoc />
    public string Checksum() => ParameterCodec.Checksum(Network);

    /// <inheritdoc />
    public byte[] Weights() => ParameterCodec.Encode(Network);

    /// <inheritdoc />
    public byte[] OptimizerState() => _optimizer.SaveState();

    /// <inheritdoc />
    public void LoadState(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> optimizerState)
    {
        ParameterCodec.Decode(weights, Network);
        _optimizer.Restore(optimizerState);
    }

    /// <inheritdoc />
    public float Control { get; set; }

    /// <inheritdoc />
    public void Dispose()
    {
        _inputs.Dispose();
        Network.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Shape of the input tensor for <paramref name="count"/> Fashion-MNIST images.</summary>
    protected abstract long[] InputShape(int count);

    /// <summary>
    /// Runs the forward pass on this rank's images (pixels in [0, 1]). Returns the loss, scaled so
    /// that its sum over ranks is the global batch mean, and this rank's shares of the step terms,
    /// whose sums over ranks are the reported terms.
    /// </summary>
    protected abstract (Tensor Loss, double[] TermShares) Forward(Tensor x, Tensor labels, int globalBatchSize, int worldSize, long step, int rank);


}

/// <summary>Data-parallel autoencoder: per-pixel MSE plus the optional L2 penalty λΣ‖W‖².</summary>
public sealed class AutoencoderReplica(TrainingConfig config, int inputSize, ReadOnlySpan<byte> weights)
    : SingleNetworkReplica(config, Load(DefaultGenerator.Unseeded(() => new Autoencoder(new AutoencoderOptions(inputSize, config.LatentSize))), weights), termCount: 1)
{
    /// <summary>Creates the model with the run's seed and returns its encoded initial state.</summary>
    public static byte[] InitialWeights(TrainingConfig config, int inputSize)
    {
        using var model = DefaultGenerator.Seeded(config.Seed, () => new Autoencoder(new AutoencoderOptions(inputSize, config.LatentSize)));
        return ParameterCodec.Encode(model);
    }

    protected override long[] InputShape(int count) => [count, ((Autoencoder)Network).Options.InputSize];

    protected override (Tensor Loss, double[] TermShares) Forward(Tensor x, Tensor labels, int globalBatchSize, int worldSize, long step, int rank)
    {
        var (loss, squaredErrorSum) = AutoencoderLoss.Compute((Autoencoder)Network, x, Config.WeightDecay, globalBatchSize, 1.0 / worldSize);
        return (loss, [squaredErrorSum.item<float>() / ((double)globalBatchSize * x.shape[1])]);
    }

    private static Autoencoder Load(Autoencoder model, ReadOnlySpan<byte> weights)
    {
        ParameterCodec.Decode(weights, model);
        return model;
    }
}

/// <summary>Data-parallel CNN classifier: cross-entropy, with the batch accuracy as a second term.</summary>
public sealed class ClassifierReplica(TrainingConfig config, ReadOnlySpan<byte> weights)
    : SingleNetworkReplica(config, Load(DefaultGenerator.Unseeded(() => new ClassifierCnn(new ClassifierOptions())), weights), termCount: 2)
{
    /// <summary>Creates the model with the run's seed and returns its encoded initial state.</summary>
    public static byte[] InitialWeights(TrainingConfig config)
    {
        using var model = DefaultGenerator.Seeded(config.Seed, () => new ClassifierCnn(new ClassifierOptions()));
        return ParameterCodec.Encode(model);
    }

    protected override long[] InputShape(int count) => [count, 1, ClassifierCnn.ImageSize, ClassifierCnn.ImageSize];

    protected override (Tensor Loss, double[] TermShares) Forward(Tensor x, Tensor labels, int globalBatchSize, int worldSize, long step, int rank)
    {
        if (x.shape[0] < 2)
        {
            // NOTE: BatchNorm cannot normalise fewer than 2 images in training mode.
            throw new ArgumentException($"The classifier needs at least 2 images per rank and step for BatchNorm, got {x.shape[0]}; choose another --batch-size.");
        }

        if (Config.DeletionAugmentation > 0)
        {
            x = DeletePixels(x, step, rank);
        }

        var logits = ((ClassifierCnn)Network).call(x);
        var loss = ClassifierLoss.CrossEntropySum(logits, labels).Over(globalBatchSize);
        var correct = logits.argmax(1).eq(labels).sum().item<long>();
        return (loss, [loss.item<float>(), correct / (double)globalBatchSize]);
    }

    private static ClassifierCnn Load(ClassifierCnn model, ReadOnlySpan<byte> weights)
    {
        ParameterCodec.Decode(weights, model);
        return model;
    }

    /// <summary>
    /// Replaces, in a share <see cref="TrainingConfig.DeletionAugmentation"/> of the images, a uniformly
    /// drawn fraction in [0, 0.5] of the pixels with the training set's mean pixel value. A classifier
    /// that has seen scattered missing pixels does not treat them as evidence, so deletion tests of
    /// its saliency maps measure the deleted content rather than the shift to an unseen input.
    /// Seeded by (seed, step, rank), so reruns are identical.
    /// </summary>
    private Tensor DeletePixels(Tensor x, long step, int rank)
    {
        using var generator = new Generator(unchecked((ulong)Config.Seed * 0x9E3779B97F4A7C15UL + ((ulong)step << 8) + (ulong)rank + 0x5DEECE66DUL));
        var count = x.shape[0];
        var chosen = torch.rand([count, 1, 1, 1], generator: generator).Below(Config.DeletionAugmentation);
        var fraction = torch.rand([count, 1, 1, 1], generator: generator).Times(0.5);
        var deleted = torch.rand(x.shape, generator: generator).lt(fraction).logical_and(chosen);
        return torch.where(deleted, torch.tensor(MeanPixelValue), x);
    }
}
