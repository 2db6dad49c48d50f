using System.Diagnostics;
using System.Runtime.InteropServices;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Worker.Training;

/// <summary>Settings of a data-parallel DCGAN replica.</summary>
/// <param name="DiscriminatorLearningRate">α_D.</param>
/// <param name="GeneratorLearningRate">α_G.</param>
/// <param name="Beta1">Adam's β₁ for both optimizers (0.5 is the DCGAN convention).</param>
public sealed record GanReplicaSettings(
    int BatchSizePerWorker = 64,
    int Seed = 1,
    int LatentSize = 64,
    double DiscriminatorLearningRate = 2e-4,
    double GeneratorLearningRate = 2e-4,
    double Beta1 = 0.5,
    int ThreadsPerWorker = 1);

/// <summary>Losses of one GAN iteration, averaged over the global batch.</summary>
public sealed record GanStepMetrics(double DiscriminatorLoss, double GeneratorLoss, int Samples, double StepSeconds, double AllReduceSeconds);

/// <summary>
/// One data-parallel DCGAN replica. Each iteration takes one discriminator step, then one generator
/// step. Both the D and the G gradients are summed over the ring before their optimizer steps, so
/// both optimizers apply the same update on every rank.
/// </summary>
/// <remarks>
/// BatchNorm running statistics are buffers, not gradients: each replica updates them from its own
/// batches (three discriminator passes and one generator pass per iteration), so they drift apart.
/// After every iteration they are averaged across ranks inside the generator's all-reduce, which
/// keeps every replica's buffers identical; evaluation therefore sees the mean statistics of all
/// shards. Not thread-safe: one dedicated thread must own the replica.
/// </remarks>
public sealed class GanReplicaTrainer : IDisposable
{
    private readonly GanReplicaSettings _settings;
    private readonly FlatAdam _discriminatorOptimizer;
    private readonly FlatAdam _generatorOptimizer;
    private readonly GradientBucket _discriminatorBucket;
    private readonly GradientBucket _generatorBucket;
    private readonly IReadOnlyList<Tensor> _runningStatistics;
    private readonly int _runningStatisticsLength;
    private readonly Dictionary<int, Tensor> _inputs = [];

    public GanReplicaTrainer(GanReplicaSettings settings, ReadOnlySpan<byte> generatorWeights, ReadOnlySpan<byte> discriminatorWeights)
    {
        _settings = settings;
        torch.set_num_threads(settings.ThreadsPerWorker);
        var options = new DcganOptions(settings.LatentSize);
        Generator = new DcganGenerator(options);
        Discriminator = new DcganDiscriminator(options);
        ParameterCodec.Decode(generatorWeights, Generator);
        ParameterCodec.Decode(discriminatorWeights, Discriminator);
        Generator.train();
        Discriminator.train();

        var discriminatorParameters = Discriminator.parameters().ToList();
        var generatorParameters = Generator.parameters().ToList();
        _discriminatorOptimizer = new FlatAdam(discriminatorParameters, settings.DiscriminatorLearningRate, settings.Beta1);
        _generatorOptimizer = new FlatAdam(generatorParameters, settings.GeneratorLearningRate, settings.Beta1);
        _runningStatistics = ModuleBuffers.FloatBuffers(Generator).Concat(ModuleBuffers.FloatBuffers(Discriminator)).ToList();
        _runningStatisticsLength = _runningStatistics.Sum(b => (int)b.numel());
        _discriminatorBucket = new GradientBucket(discriminatorParameters, extraSlots: 1);
        _generatorBucket = new GradientBucket(generatorParameters, extraSlots: 1 + _runningStatisticsLength);
    }

    public DcganGenerator Generator { get; }

    public DcganDiscriminator Discriminator { get; }

    /// <summary>Creates both networks with the seed and returns their encoded initial parameters.</summary>
    public static (byte[] Generator, byte[] Discriminator) InitialWeights(GanReplicaSettings settings)
    {
        torch.manual_seed(settings.Seed);
        var options = new DcganOptions(settings.LatentSize);
        using var generator = new DcganGenerator(options);
        using var discriminator = new DcganDiscriminator(options);
        return (ParameterCodec.Encode(generator), ParameterCodec.Encode(discriminator));
    }

    /// <summary>
    /// Runs one iteration on this rank's real images: a D step on real and generated images, then a
    /// G step with the non-saturating loss. A synchronisation point with two all-reduces.
    /// </summary>
    /// <param name="batch">Indices of this rank's real images; BatchNorm needs at least 2.</param>
    /// <param name="step">Global iteration number, from 1; it seeds the latent noise.</param>
    /// <param name="globalBatchSize">Real images in this iteration over all ranks.</param>
    public GanStepMetrics Step(ImageDataset data, ReadOnlySpan<int> batch, long step, int rank, int worldSize, int globalBatchSize, RingCollective ring)
    {
        if (batch.Length < 2)
        {
            throw new ArgumentException($"A DCGAN replica needs at least 2 images per step for BatchNorm, got {batch.Length}; lower the world size or raise the batch size.", nameof(batch));
        }

        var clock = Stopwatch.StartNew();
        var real = InputTensor(batch.Length, data);
        data.CopyNormalized(batch, MemoryMarshal.Cast<byte, float>(real.bytes));
        using var scope = torch.NewDisposeScope();
        using (torch.no_grad())
        {
            real.mul_(2).sub_(1);
        }

        var z = Noise(step, rank, worldSize, batch.Length);
        var fake = Generator.call(z);

        // Discriminator step: J_D on real and generated images, the generator held fixed.
        Discriminator.zero_grad();
        var discriminatorLoss = GanLosses.DiscriminatorLossSum(Discriminator.call(real), Discriminator.call(fake.detach())) / globalBatchSize;
        discriminatorLoss.backward();
        _discriminatorBucket.Gather();
        _discriminatorBucket.Extras[0] = discriminatorLoss.item<float>();
        var reduceClock = Stopwatch.StartNew();
        ring.AllReduceSum(_discriminatorBucket.Buffer);
        var allReduceSeconds = reduceClock.Elapsed.TotalSeconds;
        _discriminatorOptimizer.Step(_discriminatorBucket.Buffer);

        // Generator step: non-saturating J_G through the updated discriminator.
        Generator.zero_grad();
        var generatorLoss = GanLosses.GeneratorLossSum(Discriminator.call(fake)) / globalBatchSize;
        generatorLoss.backward();
        _generatorBucket.Gather();
        _generatorBucket.Extras[0] = generatorLoss.item<float>();
        CopyRunningStatistics(_generatorBucket.Extras[1..]);
        reduceClock.Restart();
        ring.AllReduceSum(_generatorBucket.Buffer);
        allReduceSeconds += reduceClock.Elapsed.TotalSeconds;
        _generatorOptimizer.Step(_generatorBucket.Buffer);
        AverageRunningStatistics(_generatorBucket.Extras[1..], worldSize);

        var d = (double)_discriminatorBucket.Extras[0];
        var g = (double)_generatorBucket.Extras[0];
        if (!double.IsFinite(d) || !double.IsFinite(g))
        {
            throw new ArithmeticException($"A GAN loss is not finite at step {step}: J_D = {d}, J_G = {g}; lower the learning rates.");
        }

        return new GanStepMetrics(d, g, globalBatchSize, clock.Elapsed.TotalSeconds, allReduceSeconds);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var input in _inputs.Values)
        {
            input.Dispose();
        }

        Generator.Dispose();
        Discriminator.Dispose();
    }

    private void CopyRunningStatistics(Span<float> destination)
    {
        var offset = 0;
        foreach (var buffer in _runningStatistics)
        {
            var length = (int)buffer.numel();
            MemoryMarshal.Cast<byte, float>(buffer.bytes).CopyTo(destination.Slice(offset, length));
            offset += length;
        }
    }

    private void AverageRunningStatistics(Span<float> sums, int worldSize)
    {
        var offset = 0;
        foreach (var buffer in _runningStatistics)
        {
            var length = (int)buffer.numel();
            var target = MemoryMarshal.Cast<byte, float>(buffer.bytes);
            for (var i = 0; i < length; i++)
            {
                target[i] = sums[offset + i] / worldSize;
            }

            offset += length;
        }
    }

    /// <summary>Latent noise of this rank's rows of the global batch; see <see cref="ReplicaTrainer"/> for the row layout.</summary>
    private Tensor Noise(long step, int rank, int worldSize, int count)
    {
        var capacity = (long)_settings.BatchSizePerWorker * worldSize;
        using var generator = new Generator(unchecked((ulong)_settings.Seed * 0x9E3779B97F4A7C15UL + (ulong)step));
        var all = torch.randn([capacity, _settings.LatentSize], generator: generator);
        return all[TensorIndex.Slice(rank, rank + ((long)count - 1) * worldSize + 1, worldSize)];
    }

    private Tensor InputTensor(int count, ImageDataset data)
    {
        if (!_inputs.TryGetValue(count, out var tensor))
        {
            tensor = torch.empty([count, 1, data.Rows, data.Columns]);
            _inputs[count] = tensor;
        }

        return tensor;
    }
}
