using DeepGen.Distributed.Configuration;

namespace DeepGen.Distributed.Coordinator.Output;

/// <summary>Contents of a checkpoint: the run's settings, the training position and the model weights.</summary>
/// <param name="Config">Settings of the run that produced the weights.</param>
/// <param name="Epoch">Number of completed epochs when the weights were taken.</param>
/// <param name="Step">Number of completed optimizer steps when the weights were taken.</param>
/// <param name="Weights">Model parameters as encoded by <see cref="DeepGen.Distributed.Training.ParameterCodec.Encode"/>.</param>
/// <param name="Position">Samples of epoch <paramref name="Epoch"/> + 1 already trained on (0 at an epoch boundary).</param>
/// <param name="OptimizerState">State of the optimizers (step counts and moments), or null when the checkpoint contains weights only.</param>
/// <remarks>Record equality compares <paramref name="Weights"/> by reference, so compare the bytes separately.</remarks>
public sealed record CheckpointData(TrainingConfig Config, int Epoch, long Step, byte[] Weights, long Position = 0, byte[]? OptimizerState = null);
