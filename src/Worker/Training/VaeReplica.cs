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
/// One data-parallel VAE replica: its model, optimizer and the training step. Every rank runs the
/// same steps. Gradients are summed across ranks with the ring all-reduce before the optimizer
/// step, so all replicas apply the same update and stay bitwise identical.
/// </summary>
/// <remarks>
/// Not thread-safe: libtorch's grad mode and TorchSharp's dispose scopes are per thread, so one
/// dedicated thread must create the replica and run every step.
/// </remarks>
public sealed class VaeReplica : IReplica
{
    private const int LossSlot = 0;
    private const int ReconstructionSlot = 1;
    private const int KlSlot = 2;

    private readonly TrainingConfig _config;
    private readonly FlatOptimizer _optimizer;
    private readonly GradientBucket _bucket;
    private readonly VaeLossOptions _lossOptions;
    private readonly BatchTensorCache _inputs;

    /// <param name="inputSize">Pixels per image.</param>
    /// <param name="initialWeights">Parameters to start from, as produced by <see cref="ParameterCodec.Encode"/>.</param>
    public VaeReplica(TrainingConfig config, int inputSize, ReadOnlySpan<byte> initialWeights)
    {
        _config = config;

        // libtorch's OpenMP pool size is a per-thread setting: a thread that never sets it uses
        // one OpenMP thread per core, and two replicas in one process would oversubscribe.
        torch.set_num_threads(config.ThreadsPerWorker);
        Model = DefaultGenerator.Unseeded(() => new Vae(new VaeOptions(inputSize, config.HiddenSize, config.LatentSize)));
        ParameterCodec.Decode(initialWeights, Model);
        Model.train();
        var parameters = Model.parameters().ToList();
        _optimizer = config.Optimizer == "sgd"
            ? new FlatSgd(parameters, config.LearningRate)
            : new FlatAdam(parameters, config.LearningRate);
        _bucket = new GradientBucket(parameters, extraSlots: 3);
        _lossOptions = new VaeLossOptions(config.Beta, config.WeightDecay);
        _inputs = new BatchTensorCache(count => [count, inputSize]);
    }

    /// <summary>The replica's model.</summary>
    public Vae Model { get; }

    /// <summary>Creates a model with the run's seed and returns its encoded initial parameters.</summary>
    public static byte[] InitialWeights(TrainingConfig config, int inputSize)
    {
        using var model = DefaultGenerator.Seeded(config.Seed, () => new Vae(new VaeOptions(inputSize, config.HiddenSize, config.LatentSize)));
        return ParameterCodec.Encode(model);
    }

    /// <summary>
    /// Runs one step: forward and backward on this rank's batch, all-reduce of the gradients and
    /// loss terms, optimizer step. A synchronisation point: every rank must call it for the same
    /// <paramref name="step"/>, even with an empty batch.
    /// </summary>
    /// <param name="batch">Indices of this rank's images in <paramref name="data"/>.</param>
    /// <param name="step">Global step number, from 1; it seeds the reparameterisation noise.</param>
    /// <param name="globalBatchSize">Images in this step over all ranks.</param>
    /// <exception cref="CollectiveException">The all-reduce failed.</exception>
    /// <exception cref="ArithmeticException">The loss is NaN or infinite.</exception>
    public StepMetrics Step(ImageDataset data, ReadOnlySpan<int> batch, long step, int rank, int worldSize, int globalBatchSize, RingCollective ring)
    {
        var clock = Stopwatch.StartNew();
        var phases = StepPhaseTimer.Start(rank);
        var x = _inputs.Fill(data, batch);
        using var scope = torch.NewDisposeScope();
        var noise = Noise(step, rank, worldSize, batch.Length);
        phases.Next(StepPhase.ForwardBackward);

        Model.zero_grad();

        var terms = VaeLoss.Compute(Model, x, noise, _lossOptions, normalizer: globalBatchSize, weightDecayShare: 1.0 / worldSize);

        terms.Loss.backward();

        // NOTE: The all-reduce starts only after the whole backward pass. TorchSharp 0.107 has no
        // tensor backward hooks (register_hook), so the step cannot learn when one bucket's
        // gradients are final. Overlapping communication with backward would need the backward
        // pass staged by hand with torch.autograd.grad.
        _bucket.Gather();
        var extras = _bucket.Extras;
        extras[LossSlot] = step == _config.InjectNanAtStep ? float.NaN : terms.Loss.item<float>();
        extras[ReconstructionSlot] = terms.Reconstruction.item<float>() / globalBatchSize;
        extras[KlSlot] = terms.Kl.item<float>() / globalBatchSize;
        _bucket.Control = Control;
        var reduceClock = Stopwatch.StartNew();
        var sentBefore = ring.BytesSent;
        phases.Next(StepPhase.AllReduce);
        ring.AllReduceSum(_bucket.Buffer);
        var allReduceSeconds = reduceClock.Elapsed.TotalSeconds;
        Control = _bucket.Control;
        DeepGenTelemetry.AllReduceBytes.Add(ring.BytesSent - sentBefore);
        phases.TagAllReduce(ring.BytesSent - sentBefore, worldSize);
        var loss = (double)_bucket.Extras[LossSlot];
        if (!double.IsFinite(loss))
        {
            throw new ArithmeticException(
                $"The training loss is {loss} at step {step} (reconstruction {_bucket.Extras[ReconstructionSlot]}, KL {_bucket.Extras[KlSlot]}); lower --lr or check the data.");
        }

        phases.Next(StepPhase.Optimizer);
        _optimizer.Step(_bucket.Buffer);

        var phaseSeconds = phases.Stop();
        var seconds = clock.Elapsed.TotalSeconds;
        DeepGenTelemetry.StepDuration.Record(seconds);
        DeepGenTelemetry.AllReduceDuration.Record(allReduceSeconds);
        DeepGenTelemetry.Samples.Add(batch.Length);
        return new StepMetrics(loss, [_bucket.Extras[ReconstructionSlot], _bucket.Extras[KlSlot]], globalBatchSize, seconds, allReduceSeconds) { PhaseSeconds = phaseSeconds };
    }

    /// <inheritdoc />
    public void SetLearningRateScale(double scale) => _optimizer.LearningRateScale = scale;

    /// <summary>SHA-256 of the replica's parameters.</summary>
    public string Checksum() => ParameterCodec.Checksum(Model);

    /// <summary>The replica's parameters in <see cref="ParameterCodec"/> form.</summary>
    public byte[] Weights() => ParameterCodec.Encode(Model);

    /// <inheritdoc />
    public byte[] OptimizerState() => _optimizer.SaveState();

    /// <inheritdoc />
    public void LoadState(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> optimizerState)
    {
        ParameterCodec.Decode(weights, Model);
        _optimizer.Restore(optimizerState);
    }

    /// <inheritdoc />
    public float Control { get; set; }

    /// <inheritdoc />
    public void Dispose()
    {
        _inputs.Dispose();
        Model.Dispose();
    }


    /// <summary>
    /// Returns this rank's reparameterisation noise [count, latent]. The noise of the whole global
    /// batch is drawn from a generator seeded by (seed, step). Rank r takes rows r, r + N, r + 2N, …,
    /// which are the positions of its samples in the global batch under the sampler's interleaved shards.
    /// N workers therefore draw exactly the noise that one worker with the global batch draws.
    /// </summary>
    private Tensor Noise(long step, int rank, int worldSize, int count)
    {
        var capacity = (long)_config.BatchSizePerWorker * worldSize;
        using var generator = new Generator(unchecked((ulong)_config.Seed * 0x9E3779B97F4A7C15UL + (ulong)step));
        var all = torch.randn([capacity, _config.LatentSize], generator: generator);
        if (count == 0)
        {
            return all[..0];
        }

        return all[TensorIndex.Slice(rank, rank + ((long)count - 1) * worldSize + 1, worldSize)];
    }
}
