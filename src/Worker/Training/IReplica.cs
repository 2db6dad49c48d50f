using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Data;

namespace DeepGen.Distributed.Worker.Training;

/// <summary>Loss terms of one step, averaged over the global batch, and its timing on this rank.</summary>
/// <param name="Loss">Training objective per image.</param>
/// <param name="Terms">The model family's step terms, in <see cref="Configuration.ModelFamily.StepTerms"/> order.</param>
/// <param name="Samples">Images in the global batch.</param>
/// <param name="StepSeconds">Wall time of the step on this rank.</param>
/// <param name="AllReduceSeconds">Part of <paramref name="StepSeconds"/> spent in all-reduces.</param>
public sealed record StepMetrics(double Loss, IReadOnlyList<double> Terms, int Samples, double StepSeconds, double AllReduceSeconds)
{
    /// <summary>Seconds spent in each phase of the step, indexed by <see cref="Telemetry.StepPhase"/>; null when the replica does not time phases.</summary>
    public IReadOnlyList<double>? PhaseSeconds { get; init; }
}

/// <summary>
/// One data-parallel replica of a model family: its networks, optimizers and training step.
/// Implementations keep every rank's replica bitwise identical: they sum gradients (and average
/// any running statistics) over the ring before each optimizer step.
/// </summary>
/// <remarks>Not thread-safe: one dedicated thread must create the replica and run every step.</remarks>
public interface IReplica : IDisposable
{
    /// <summary>
    /// Runs one training step on this rank's batch. A synchronisation point: every rank must call
    /// it for the same <paramref name="step"/>, even with an empty batch.
    /// </summary>
    /// <param name="batch">Indices of this rank's images in <paramref name="data"/>.</param>
    /// <param name="step">Global step number, from 1; it seeds the step's noise.</param>
    /// <param name="globalBatchSize">Images in this step over all ranks.</param>
    /// <exception cref="CollectiveException">An all-reduce failed.</exception>
    /// <exception cref="ArithmeticException">A loss is NaN or infinite; the message names the step and the loss.</exception>
    StepMetrics Step(ImageDataset data, ReadOnlySpan<int> batch, long step, int rank, int worldSize, int globalBatchSize, RingCollective ring);

    /// <summary>Sets the factor on the base learning rate of every optimizer for the next steps.</summary>
    void SetLearningRateScale(double scale);

    /// <summary>SHA-256 of the replica's state (parameters and running statistics).</summary>
    string Checksum();

    /// <summary>The replica's state in <see cref="DeepGen.Distributed.Training.ParameterCodec"/> form.</summary>
    byte[] Weights();

    /// <summary>State of every optimizer (step counts and moments), in a fixed order.</summary>
    byte[] OptimizerState();

    /// <summary>
    /// Replaces the replica's weights and, when <paramref name="optimizerState"/> is not empty, its
    /// optimizers' state, so that it continues exactly where the replica that saved them stopped.
    /// </summary>
    /// <exception cref="ArgumentException">The state does not fit this replica's networks or optimizers.</exception>
    void LoadState(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> optimizerState);

    /// <summary>
    /// Control flag exchanged in the next step's first all-reduce. Set this rank's value before
    /// <see cref="Step"/>; after it, the property contains the sum over all ranks.
    /// </summary>
    float Control { get; set; }
}
