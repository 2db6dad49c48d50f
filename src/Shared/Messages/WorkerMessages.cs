using DeepGen.Distributed.Collectives;

namespace DeepGen.Distributed.Messages;

/// <summary>A worker offers itself to the coordinator. Sent again until <see cref="WorkerAccepted"/> arrives.</summary>
/// <param name="WorkerId">Stable id of the worker process, for logs.</param>
/// <param name="Host">Host name of the worker's machine.</param>
/// <param name="DataPlane">Endpoint where the worker accepts ring connections.</param>
/// <param name="Device">Compute device, for example <c>cpu</c>.</param>
public sealed record RegisterWorker(string WorkerId, string Host, DataPlaneEndpoint DataPlane, string Device) : IClusterMessage;

/// <summary>The coordinator has recorded the worker; it will be given a rank when a run starts.</summary>
public sealed record WorkerAccepted(string WorkerId) : IClusterMessage;

/// <summary>The coordinator has enough workers and it will not take this one into the current run.</summary>
public sealed record WorkerNotNeeded(string WorkerId, string Reason) : IClusterMessage;

/// <summary>
/// Assigns a rank and sends everything a replica needs: the configuration, the peers' data-plane
/// endpoints indexed by rank, the run secret for the ring handshake and the initial weights that
/// make every replica start identical.
/// </summary>
/// <param name="InitialWeights">Model parameters in <see cref="Training.ParameterCodec"/> format.</param>
public sealed record JoinRun(
    string RunId,
    int Rank,
    Configuration.TrainingConfig Config,
    IReadOnlyList<DataPlaneEndpoint> Peers,
    byte[] RunSecret,
    byte[] InitialWeights,
    string? TraceParent) : IClusterMessage;

/// <summary>The worker has loaded the weights and formed the ring with its peers.</summary>
/// <param name="ParameterChecksum">SHA-256 of the replica's parameters after loading the weights.</param>
public sealed record RunJoined(string RunId, int Rank, string ParameterChecksum) : IClusterMessage;

/// <summary>Train one epoch; every rank runs the same number of steps.</summary>
/// <param name="TraceParent">W3C <c>traceparent</c> of the coordinator's epoch span, the parent of every rank's step spans; null when the coordinator does not trace.</param>
public sealed record TrainEpoch(string RunId, int Epoch, long FirstStep, string? TraceParent) : IClusterMessage;

/// <summary>
/// One optimizer step finished on a rank. The loss terms are already averaged over the global
/// batch (they travel in the gradient all-reduce), so they are equal on every rank.
/// </summary>
/// <param name="Step">Global step number, from 1.</param>
/// <param name="Loss">Training objective per image, for example (reconstruction + β·KL)/batch + penalty for the VAE.</param>
/// <param name="Terms">The model family's step terms (<see cref="Configuration.ModelFamily.StepTerms"/>), in that order.</param>
/// <param name="Samples">Images in the global batch of this step.</param>
/// <param name="StepSeconds">Wall time of the step on this rank.</param>
/// <param name="AllReduceSeconds">Part of <paramref name="StepSeconds"/> spent in the gradient all-reduce.</param>
/// <param name="PhaseSeconds">Seconds in each phase of the step, indexed by <see cref="Telemetry.StepPhase"/>; null from replicas that do not time phases.</param>
public sealed record StepCompleted(
    string RunId,
    int Rank,
    long Step,
    int Epoch,
    double Loss,
    IReadOnlyList<double> Terms,
    int Samples,
    double StepSeconds,
    double AllReduceSeconds,
    IReadOnlyList<double>? PhaseSeconds = null) : IClusterMessage;

/// <summary>Rank 0's weights after <paramref name="Step"/>, sent every <c>--eval-every</c> steps for evaluation while training goes on.</summary>
public sealed record WeightsSnapshot(string RunId, int Epoch, long Step, byte[] Weights) : IClusterMessage;

/// <summary>Replicas report a parameter checksum so that the coordinator can check they are identical.</summary>
public sealed record ParameterChecksum(string RunId, int Rank, long Step, string Checksum) : IClusterMessage;

/// <summary>An epoch finished on a rank.</summary>
/// <param name="LastStep">Global step number after the epoch.</param>
/// <param name="Checksum">SHA-256 of the replica's parameters after the epoch.</param>
/// <param name="Weights">Rank 0 sends its parameters for evaluation and checkpoints; others send null.</param>
public sealed record EpochCompleted(string RunId, int Rank, int Epoch, long LastStep, string Checksum, byte[]? Weights) : IClusterMessage;

/// <summary>The worker cannot continue the run: a collective failed, a loss was not finite, or data failed to load.</summary>
public sealed record WorkerFailed(string RunId, int Rank, string Reason) : IClusterMessage;

/// <summary>The run is over (finished or failed); the worker drops its replica and closes its ring.</summary>
public sealed record LeaveRun(string RunId, string Reason) : IClusterMessage;
