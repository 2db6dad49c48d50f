namespace DeepGen.Distributed.Messages;

/// <summary>Evaluate a weight snapshot on held-out data. Local to the coordinator's process.</summary>
/// <param name="Weights">State of rank 0 after <paramref name="Step"/>, in ParameterCodec form.</param>
/// <param name="EpochEnd">True at the end of an epoch, which also writes the epoch's image grids.</param>
public sealed record EvaluateSnapshot(int Epoch, long Step, byte[] Weights, bool EpochEnd);

/// <summary>The evaluation of a snapshot finished.</summary>
public sealed record SnapshotEvaluated(EpochEvaluation Evaluation);

/// <summary>The evaluation of a snapshot failed; training is not affected.</summary>
/// <param name="EpochEnd">True when the failed snapshot was taken at the end of <paramref name="Epoch"/>.</param>
public sealed record SnapshotEvaluationFailed(int Epoch, string Reason, bool EpochEnd);

/// <summary>Write a CAM report for a weight snapshot. Local to the coordinator's process.</summary>
public sealed record ReportCam(int Epoch, long Step, byte[] Weights);

/// <summary>A CAM report was written; <paramref name="Page"/> is its HTML page, or null when it failed with <paramref name="Error"/>.</summary>
public sealed record CamReportWritten(int Epoch, long Step, string? Page, string? Error);
