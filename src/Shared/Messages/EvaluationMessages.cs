namespace DeepGen.Distributed.Messages;

/// <summary>Evaluate a weight snapshot on the test set and write its image grids. Local to the coordinator's process.</summary>
/// <param name="Weights">Parameters of rank 0 after <paramref name="Step"/>, in ParameterCodec form.</param>
public sealed record EvaluateSnapshot(int Epoch, long Step, byte[] Weights);

/// <summary>The evaluation of a snapshot finished.</summary>
public sealed record SnapshotEvaluated(EpochEvaluation Evaluation);

/// <summary>The evaluation of a snapshot failed; training is not affected.</summary>
public sealed record SnapshotEvaluationFailed(int Epoch, string Reason);
