using System.Diagnostics;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Worker.Training;

/// <summary>Settings of a data-parallel GAN replica.</summary>
/// <param name="Architecture"><c>dcgan</c> or <c>mlp</c>.</param>
/// <param name="DiscriminatorLearningRate">α_D.</param>
/// <param name="GeneratorLearningRate">α_G.</param>
/// <param name="Beta1">Adam's β₁ for both optimizers (0.5 is the DCGAN convention).</param>
/// <param name="DiscriminatorSteps">Discriminator steps before each generator step.</param>
/// <param name="InjectNanAtStep">Fault injection: make the discriminator loss NaN at this step (0 = never).</param>
public sealed record GanReplicaSettings(
    int BatchSizePerWorker = 64,
    int Seed = 1,
    int LatentSize = 64,
    double DiscriminatorLearningRate = 2e-4,
    double GeneratorLearningRate = 2e-4,
    double Beta1 = 0.5,
    int ThreadsPerWorker = 1,
    string Architecture = "dcgan",
    int DiscriminatorSteps = 1,
    long InjectNanAtStep = 0);

/// <summary>
/// One data-parallel GAN replica. Each iteration takes <see cref="GanReplicaSettings.DiscriminatorSteps"/>
/// discriminator steps, then one generator step. Both the D and the G gradients are summed over
/// the ring before their optimizer steps, so both optimizers apply the same update on every rank.
/// </summary>
/// <remarks>
/// BatchNorm running statistics are buffers, not gradients: each replica updates them from its own
/// batches (2k + 1 discriminator passes, for k = DiscriminatorSteps, and one generator pass per iteration; the k discriminator steps reuse the iteration's real batch with fresh generated images), so they drift apart.
/// After every iteration they are averaged across ranks inside the generator's all-reduce, which
/// keeps every replica's buffers identical. Evaluation therefore uses the mean statistics of all
/// shards. Not thread-safe: one dedicated thread must own the replica.
/// </remarks>
public sealed class GanReplica : IReplica
{
    private readonly GanReplicaSettings _settings;
    private readonly FlatAdam _discriminatorOptimizer;
    private readonly FlatAdam _generatorOptimizer;
    private readonly GradientBucket _discriminatorBucket;
    private readonly GradientBucket _generatorBucket;
    private readonly IReadOnlyList<Tensor> _runningStatistics;
    private readonly int _runningStatisticsLength;
    private readonly BatchTensorCache _inputs = new(count => [count, 1, DcganOptions.SupportedImageSize, DcganOptions.SupportedImageSize]);

    public GanReplica(GanReplicaSettings settings, ReadOnlySpan<byte> weights)
    {
        _settings = settings;
        torch.set_num_threads(settings.ThreadsPerWorker);
        Networks = DefaultGenerator.Unseeded(() => new GanNetworks(settings.Architecture, new DcganOptions(settings.LatentSize)));
        ParameterCodec.Decode(weights, Networks);
        Networks.train();

        var discriminatorParameters = Discriminator.parameters().ToList();
        var generatorParameters = Generator.parameters().ToList();
        _discriminatorOptimizer = new FlatAdam(discriminatorParameters, settings.DiscriminatorLearningRate, settings.Beta1);
        _generatorOptimizer = new FlatAdam(generatorParameters, settings.GeneratorLearningRate, settings.Beta1);
        _runningStatistics = ModuleBuffers.FloatBuffers(Generator).Concat(ModuleBuffers.FloatBuffers(Discriminator)).ToList();
        _runningStatisticsLength = _runningStatistics.Sum(b => (int)b.numel());
        _discriminatorBucket = new GradientBucket(discriminatorParameters, extraSlots: 1);
        _generatorBucket = new GradientBucket(generatorParameters, extraSlots: 1 + _runningStatisticsLength);
    }

    /// <summary>The generator and the discriminator.</summary>
    public GanNetworks Networks { get; }

    private nn.Module<Tensor, Tensor> Generator => Networks.Generator;

    private nn.Module<Tensor, Tensor> Discriminator => Networks.Discriminator;

    /// <summary>Creates both networks with the seed and returns their encoded initial state.</summary>
    public static byte[] InitialWeights(GanReplicaSettings settings)
    {
        using var networks = DefaultGenerator.Seeded(settings.Seed, () => new GanNetworks(settings.Architecture, new DcganOptions(settings.LatentSize)));
        return ParameterCodec.Encode(networks);
    }

    /// <inheritdoc />
    public void SetLearningRateScale(double scale)
    {
        _discriminatorOptimizer.LearningRateScale = scale;
        _generatorOptimizer.LearningRateScale = scale;
    }

    /// <inheritdoc />
    public string Checksum() => ParameterCodec.Checksum(Networks);

    /// <inheritdoc />
    public byte[] OptimizerState()
    {
        var discriminator = _discriminatorOptimizer.SaveState();
        var generator = _generatorOptimizer.SaveState();
        return [.. discriminator, .. generator];
    }

    /// <inheritdoc />
    public void LoadState(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> optimizerState)
    {
        ParameterCodec.Decode(weights, Networks);
        if (optimizerState.IsEmpty)
        {
            _discriminatorOptimizer.ReloadParameters();
            _generatorOptimizer.ReloadParameters();
            return;
        }

        var discriminatorLength = _discriminatorOptimizer.StateLength;
        if (optimizerState.Length != discriminatorLength + _generatorOptimizer.StateLength)
        {
            throw new ArgumentException($"GAN optimizer state of {optimizerState.Length} bytes does not fit these networks, which need {discriminatorLength + _generatorOptimizer.StateLength} bytes.", nameof(optimizerState));
        }

        _discriminatorOptimizer.LoadState(optimizerState[..discriminatorLength]);
        _generatorOptimizer.LoadState(optimizerState[discriminatorLength..]);
    }

    /// <inheritdoc />
    public float Control { get; set; }

    /// <inheritdoc />
    public byte[] Weights() => ParameterCodec.Encode(Networks);

    /// <summary>
    /// Runs one iteration on this rank's real images: a D step on real and generated images, then a
    /// G step with the non-saturating loss. A synchronisation point with two all-reduces.
    /// </summary>
    /// <param name="batch">Indices of this rank's real images; the DCGAN's BatchNorm needs at least 2.</param>
    /// <param name="step">Global iteration number, from 1; it seeds the latent noise.</param>
    /// <param name="globalBatchSize">Real images in this iteration over all ranks.</param>
    /// <remarks>
    /// An iteration updates D before G's all-reduce. When a later part fails (a peer is lost in G's
    /// all-reduce), D's parameters, its optimizer state and every running statistic are put back as
    /// they were before the iteration, so a failed iteration leaves no partial update behind.
    /// </remarks>
    public StepMetrics Step(ImageDataset data, ReadOnlySpan<int> batch, long step, int rank, int worldSize, int globalBatchSize, RingCollective ring)
    {
        var discriminatorState = _discriminatorOptimizer.SaveState();
        var discriminatorWeights = ParameterCodec.Encode(Discriminator);
        var statistics = new float[_runningStatisticsLength];
        RunningStatistics.CopyTo(_runningStatistics, statistics);
        try
        {
            return Iterate(data, batch, step, rank, worldSize, globalBatchSize, ring);
        }
        catch
        {
            ParameterCodec.Decode(discriminatorWeights, Discriminator);
            _discriminatorOptimizer.LoadState(discriminatorState);
            RunningStatistics.AverageFrom(_runningStatistics, statistics, 1);
            throw;
        }
    }

    private StepMetrics Iterate(ImageDataset data, ReadOnlySpan<int> batch, long step, int rank, int worldSize, int globalBatchSize, RingCollective ring)
    {
        if (batch.Length < 2 && _settings.Architecture == "dcgan")
        {
            // NOTE: The sampler's last step of an epoch can leave a rank with fewer than 2 images;
            // a DCGAN run fails there. The start-up check covers --workers ranks only, so after a
            // membership change the tail of an epoch can still end this way.
            throw new ArgumentException($"A DCGAN replica needs at least 2 images per step for BatchNorm, got {batch.Length} at step {step}; choose a --batch-size that leaves at least 2 images per rank in the last step, or --gan-architecture mlp.", nameof(batch));
        }

        var clock = Stopwatch.StartNew();
        var phases = StepPhaseTimer.Start(rank);
        var real = _inputs.Fill(data, batch);
        using var scope = torch.NewDisposeScope();
        using (torch.no_grad())
        {
            real.TimesInPlace(2).PlusInPlace(-1);
        }

        var reduceClock = new Stopwatch();
        var allReduceSeconds = 0.0;
        Tensor fake = null!;
        for (var k = 0; k < _settings.DiscriminatorSteps; k++)
        {
            // Every discriminator step draws fresh generated images, and the last ones also train G.
            phases.Next(StepPhase.ForwardBackward);
            var z = Noise(step, k, rank, worldSize, batch.Length);
            fake = Generator.call(z);

            // Discriminator step: J_D on real and generated images, the generator held fixed.
            Discriminator.zero_grad();
            var discriminatorLoss = GanLosses.DiscriminatorLossSum(Discriminator.call(real), Discriminator.call(fake.detach())).Over(globalBatchSize);
            discriminatorLoss.backward();
            _discriminatorBucket.Gather();
            _discriminatorBucket.Extras[0] = step == _settings.InjectNanAtStep ? float.NaN : discriminatorLoss.item<float>();
            _discriminatorBucket.Control = k == 0 ? Control : 0;
            reduceClock.Restart();
            phases.Next(StepPhase.AllReduce);
            ring.AllReduceSum(_discriminatorBucket.Buffer);
            allReduceSeconds += reduceClock.Elapsed.TotalSeconds;
            if (k == 0)
            {
                Control = _discriminatorBucket.Control;
            }
            ThrowIfNotFinite("discriminator loss J_D", _discriminatorBucket.Extras[0], step);
            phases.Next(StepPhase.Optimizer);
            _discriminatorOptimizer.Step(_discriminatorBucket.Buffer);
        }

        // Generator step: non-saturating J_G through the updated discriminator.
        phases.Next(StepPhase.ForwardBackward);
        Generator.zero_grad();
        var generatorLoss = GanLosses.GeneratorLossSum(Discriminator.call(fake)).Over(globalBatchSize);
        generatorLoss.backward();
        _generatorBucket.Gather();
        _generatorBucket.Extras[0] = generatorLoss.item<float>();
        RunningStatistics.CopyTo(_runningStatistics, _generatorBucket.Extras[1..]);
        reduceClock.Restart();
        phases.Next(StepPhase.AllReduce);
        ring.AllReduceSum(_generatorBucket.Buffer);
        allReduceSeconds += reduceClock.Elapsed.TotalSeconds;
        phases.Next(StepPhase.Optimizer);
        _generatorOptimizer.Step(_generatorBucket.Buffer);
        RunningStatistics.AverageFrom(_runningStatistics, _generatorBucket.Extras[1..], worldSize);

        var d = (double)_discriminatorBucket.Extras[0];
        var g = (double)_generatorBucket.Extras[0];
        ThrowIfNotFinite("generator loss J_G", g, step);
        return new StepMetrics(d + g, [d, g], globalBatchSize, clock.Elapsed.TotalSeconds, allReduceSeconds) { PhaseSeconds = phases.Stop() };
    }

    private static void ThrowIfNotFinite(string name, double value, long step)
    {
        if (!double.IsFinite(value))
        {
            throw new ArithmeticException($"The {name} is {value} at step {step}; lower --lr-discriminator and --lr-generator.");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _inputs.Dispose();
        Networks.Dispose();
    }

    /// <summary>Latent noise of this rank's rows of the global batch; see <see cref="VaeReplica"/> for the row layout.</summary>
    private Tensor Noise(long step, int discriminatorStep, int rank, int worldSize, int count)
    {
        var capacity = (long)_settings.BatchSizePerWorker * worldSize;
        var seed = unchecked((ulong)_settings.Seed * 0x9E3779B97F4A7C15UL + (ulong)step * 131 + (ulong)discriminatorStep);
        using var generator = new Generator(seed);
        var all = torch.randn([capacity, _settings.LatentSize], generator: generator);
        return all[TensorIndex.Slice(rank, rank + ((long)count - 1) * worldSize + 1, worldSize)];
    }

}
