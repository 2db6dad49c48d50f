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
/// Assigns a rank in one generation of a run's ring and sends everything a replica needs: the
/// configuration, the peers' data-plane endpoints indexed by rank, the ring's secret for the
/// handshake and the weights that make every replica start identical.
/// </summary>
/// <remarks>
/// Generation 0 forms the first ring. Each later generation re-forms the ring after a member was
/// lost or a worker joined: members keep their replica, newcomers build one from
/// <paramref name="InitialWeights"/>, and then rank <paramref name="SourceRank"/> broadcasts its
/// weights and optimizer state over the new ring so that every replica continues from the same state.
/// </remarks>
/// <param name="InitialWeights">Model parameters in <see cref="Training.ParameterCodec"/> format.</param>
/// <param name="InitialOptimizerState">Optimizer state to start from (a resumed run), or null for a fresh optimizer.</param>
/// <param name="SourceRank">Rank whose state every other rank copies after the ring forms; -1 in generation 0.</param>
public sealed record JoinRun(
    string RunId,
    int Rank,
    Configuration.TrainingConfig Config,
    IReadOnlyList<DataPlaneEndpoint> Peers,
    byte[] RunSecret,
    byte[] InitialWeights,
    string? TraceParent,
    int Generation = 0,
    int SourceRank = -1,
    byte[]? InitialOptimizerState = null) : IClusterMessage;

/// <summary>The worker has loaded the weights and formed the ring with its peers.</summary>
/// <param name="ParameterChecksum">SHA-256 of the replica's parameters after loading the weights.</param>
public sealed record RunJoined(string RunId, int Rank, string ParameterChecksum, int Generation = 0) : IClusterMessage;

/// <summary>
/// Train the rest of an epoch: from sample <paramref name="StartPosition"/> of the epoch's
/// permutation to its end, numbering steps from <paramref name="FirstStep"/>. Every rank runs the
/// same steps.
/// </summary>
/// <param name="TraceParent">W3C <c>traceparent</c> of the coordinator's epoch span, the parent of every rank's step spans; null when the coordinator does not trace.</param>
/// <param name="StartPosition">Samples of the epoch already trained on (0 at the start of an epoch).</param>
/// <param name="Generation">The ring generation that trains these steps.</param>
public sealed record TrainEpoch(string RunId, int Epoch, long FirstStep, string? TraceParent, long StartPosition = 0, int Generation = 0) : IClusterMessage;

/// <summary>
/// Close the ring of generation <paramref name="Generation"/> at once: a collective in flight fails
/// and no later step starts. The worker replies with <see cref="RingStopped"/>.
/// </summary>
public sealed record AbortRing(string RunId, int Generation, string Reason) : IClusterMessage;

/// <summary>
/// Stop training at the next iteration boundary that all ranks agree on (the request travels in
/// the next all-reduce), so that workers can join. The worker replies with <see cref="RingStopped"/>.
/// </summary>
public sealed record SuspendTraining(string RunId, int Generation, string Reason) : IClusterMessage;

/// <summary>
/// A worker stopped training in generation <paramref name="Generation"/> and reports where its replica is.
/// </summary>
/// <param name="LastCompletedStep">Last step whose optimizer update this replica applied.</param>
/// <param name="Epoch">Epoch of that step.</param>
/// <param name="Position">Samples of <paramref name="Epoch"/> trained on after that step.</param>
/// <param name="Consistent">False when the replica cannot vouch for its state (it failed in the middle of an update).</param>
public sealed record RingStopped(string RunId, int Rank, int Generation, long LastCompletedStep, int Epoch, long Position, bool Consistent) : IClusterMessage;

/// <summary>A replica's full state after <paramref name="Step"/>, sent by rank 0 every <c>--checkpoint-every</c> steps.</summary>
/// <param name="Position">Samples of <paramref name="Epoch"/> trained on after the step.</param>
public sealed record StateSnapshot(string RunId, int Epoch, long Step, long Position, byte[] Weights, byte[] OptimizerState) : IClusterMessage;

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
/// <param name="Generation">Ring generation that ran the step.</param>
/// <param name="WorldSize">Ranks that took part in the step.</param>
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
    int Generation = 0,
    int WorldSize = 1,
    IReadOnlyList<double>? PhaseSeconds = null) : IClusterMessage;

/// <summary>Rank 0's weights after <paramref name="Step"/>, sent every <c>--eval-every</c> steps for evaluation while training goes on.</summary>
public sealed record WeightsSnapshot(string RunId, int Epoch, long Step, byte[] Weights) : IClusterMessage;

/// <summary>Replicas report a parameter checksum so that the coordinator can check they are identical.</summary>
public sealed record ParameterChecksum(string RunId, int Rank, long Step, string Checksum) : IClusterMessage;

/// <summary>An epoch finished on a rank.</summary>
/// <param name="LastStep">Global step number after the epoch.</param>
/// <param name="Checksum">SHA-256 of the replica's parameters after the epoch.</param>
/// <param name="Weights">Rank 0 sends its parameters for evaluation and checkpoints; others send null.</param>
/// <param name="OptimizerState">Rank 0 sends its optimizer state for the checkpoint; others send null.</param>
public sealed record EpochCompleted(string RunId, int Rank, int Epoch, long LastStep, string Checksum, byte[]? Weights, byte[]? OptimizerState = null, int Generation = 0) : IClusterMessage;

/// <summary>The worker cannot continue the run: a collective failed, a loss was not finite, or data failed to load.</summary>
/// <param name="RingBroken">True when the data plane failed (a peer closed, timed out or sent garbage): the run can re-form the ring without the lost member.</param>
public sealed record WorkerFailed(string RunId, int Rank, string Reason, bool RingBroken = false, int Generation = 0) : IClusterMessage;

/// <summary>The run is over (finished or failed); the worker drops its replica and closes its ring.</summary>
public sealed record LeaveRun(string RunId, string Reason) : IClusterMessage;
