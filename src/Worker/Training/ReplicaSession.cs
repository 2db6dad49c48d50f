using Akka.Actor;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Worker.Training;

/// <summary>
/// A worker's part in one run: its replica, its shard of the data and its place in the current ring
/// generation (rank, world size, peers). Created and used only on the worker's
/// <see cref="DeepGen.Distributed.Training.TrainingThread"/>, except <see cref="Abort"/> and
/// <see cref="SuspendRequested"/>; reports go straight to the coordinator.
/// </summary>
/// <remarks>
/// The session survives ring generations: when a member is lost or a worker joins, the coordinator
/// sends a new <see cref="JoinRun"/> and <see cref="Reform"/> replaces the ring while the replica,
/// with its weights and optimizer state, stays.
/// </remarks>
public sealed class ReplicaSession : IDisposable
{
    private readonly ImageDataset _data;
    private readonly DistributedSampler _sampler;
    private readonly IReplica _trainer;
    private readonly IActorRef _coordinator;
    private JoinRun _run;
    private RingCollective _ring;
    private volatile bool _suspendRequested;
    private volatile bool _aborted;

    private ReplicaSession(JoinRun run, ImageDataset data, RingCollective ring, IReplica trainer, IActorRef coordinator)
    {
        _run = run;
        _data = data;
        _ring = ring;
        _trainer = trainer;
        _coordinator = coordinator;
        _sampler = new DistributedSampler(data.Count, run.Config.Workers, run.Config.Seed);
    }

    /// <summary>Ring generation this session trains in.</summary>
    public int Generation => _run.Generation;

    /// <summary>This worker's rank in the current generation.</summary>
    public int Rank => _run.Rank;

    /// <summary>Last step this replica applied in the current generation, or -1 when it has applied none yet.</summary>
    public long LastCompletedStep { get; private set; } = -1;

    /// <summary>Epoch of <see cref="LastCompletedStep"/>.</summary>
    public int Epoch { get; private set; }

    /// <summary>
    /// False while this replica's state may differ from the generation's agreed state: from the
    /// moment it must copy the source rank's state until the copy has succeeded.
    /// </summary>
    public bool InSync { get; private set; } = true;

    /// <summary>Samples of <see cref="Epoch"/> trained on after <see cref="LastCompletedStep"/>.</summary>
    public long Position { get; private set; }

    /// <summary>Called on the training thread before each step with its number; fault drills use it.</summary>
    public Action<long>? BeforeStep { get; set; }

    /// <summary>
    /// Set from any thread to stop at the next iteration boundary. The flag travels in the next
    /// all-reduce, so every rank stops after the same step.
    /// </summary>
    public bool SuspendRequested
    {
        get => _suspendRequested;
        set => _suspendRequested = value;
    }

    /// <summary>
    /// Forms the ring with the run's peers and builds the replica from the run's weights (and
    /// optimizer state, when resuming). When <see cref="JoinRun.SourceRank"/> is set (a worker that
    /// joins a running run), the source rank's state then replaces them. Blocks until every peer has
    /// connected or the collective timeout has passed.
    /// </summary>
    public static ReplicaSession Open(JoinRun run, ImageDataset data, DataPlaneListener listener, IActorRef coordinator, Action<string> onRejected, CancellationToken cancellationToken)
    {
        var ring = FormRing(run, listener, onRejected, cancellationToken);
        IReplica? trainer = null;
        try
        {
            trainer = ReplicaFactory.Create(run.Config, data.Rows, data.Columns, run.InitialWeights);
            if (run.InitialOptimizerState is { Length: > 0 } optimizerState)
            {
                trainer.LoadState(run.InitialWeights, optimizerState);
            }

            var session = new ReplicaSession(run, data, ring, trainer, coordinator);
            session.CopyStateFromSource();
            return session;
        }
        catch
        {
            trainer?.Dispose();
            ring.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replaces the ring with generation <see cref="JoinRun.Generation"/>'s, then copies the source
    /// rank's weights and optimizer state, so every member continues from the same state.
    /// </summary>
    public void Reform(JoinRun run, DataPlaneListener listener, Action<string> onRejected, CancellationToken cancellationToken)
    {
        _ring.Dispose();
        _ring = FormRing(run, listener, onRejected, cancellationToken);
        _run = run;
        _suspendRequested = false;
        _aborted = false;
        LastCompletedStep = -1;
        CopyStateFromSource();
    }

    /// <summary>SHA-256 of the replica's parameters.</summary>
    public string Checksum() => _trainer.Checksum();

    /// <summary>
    /// Closes the ring from any thread: a step blocked in the all-reduce fails at once, and the
    /// epoch loop stops before its next step. The check matters for a ring of one rank, whose
    /// all-reduce never touches the network and so never fails.
    /// </summary>
    public void Abort()
    {
        _aborted = true;
        _ring.Dispose();
    }

    /// <summary>
    /// Trains from <see cref="TrainEpoch.StartPosition"/> to the end of the epoch, reporting every
    /// step, then reports the epoch with the parameter checksum. Returns early, without the epoch
    /// report, when the ranks agreed to suspend.
    /// </summary>
    /// <returns>True when the epoch ended, false when training was suspended.</returns>
    public bool RunEpoch(TrainEpoch command)
    {
        var config = _run.Config;
        var batchSize = config.BatchSizePerWorker;
        var worldSize = _run.Peers.Count;
        var totalSteps = (long)config.Epochs * (((long)_data.Count + ((long)batchSize * config.Workers) - 1) / ((long)batchSize * config.Workers));
        var position = command.StartPosition;
        var step = command.FirstStep;
        var epochSpan = IterationTrace.ParseParent(command.TraceParent);
        Epoch = command.Epoch;
        for (; position < _data.Count; step++)
        {
            if (_aborted)
            {
                throw new OperationCanceledException($"The ring of generation {_run.Generation} was closed before step {step}.");
            }

            BeforeStep?.Invoke(step);
            using var stepSpan = IterationTrace.StartStep(epochSpan, _run.RunId, _run.Rank, step);
            var batch = _sampler.BatchAt(command.Epoch, position, _run.Rank, worldSize, batchSize);
            var globalBatch = _sampler.GlobalBatchAt(position, worldSize, batchSize);
            _trainer.SetLearningRateScale(LearningRateSchedule.Scale(config.LearningRateSchedule, step, totalSteps));
            _trainer.Control = _suspendRequested ? 1 : 0;
            var metrics = _trainer.Step(_data, batch, step, _run.Rank, worldSize, globalBatch, _ring);
            position += globalBatch;
            LastCompletedStep = step;
            Position = position;
            _coordinator.Tell(new StepCompleted(
                _run.RunId, _run.Rank, step, command.Epoch, metrics.Loss, metrics.Terms,
                metrics.Samples, metrics.StepSeconds, metrics.AllReduceSeconds, _run.Generation, worldSize, metrics.PhaseSeconds));
            var epochEnds = position >= _data.Count;
            if (_run.Rank == 0 && !epochEnds)
            {
                if (config.EvaluateEverySteps > 0 && step % config.EvaluateEverySteps == 0)
                {
                    _coordinator.Tell(new WeightsSnapshot(_run.RunId, command.Epoch, step, _trainer.Weights()));
                }

                if (config.CheckpointEverySteps > 0 && step % config.CheckpointEverySteps == 0)
                {
                    _coordinator.Tell(new StateSnapshot(_run.RunId, command.Epoch, step, position, _trainer.Weights(), _trainer.OptimizerState()));
                }
            }

            if (config.ChecksumEverySteps > 0 && step % config.ChecksumEverySteps == 0)
            {
                _coordinator.Tell(new ParameterChecksum(_run.RunId, _run.Rank, step, _trainer.Checksum()));
            }

            if (_trainer.Control > 0)
            {
                return false;
            }
        }

        var rankZero = _run.Rank == 0;
        _coordinator.Tell(new EpochCompleted(
            _run.RunId, _run.Rank, command.Epoch, step - 1, _trainer.Checksum(),
            rankZero ? _trainer.Weights() : null, rankZero ? _trainer.OptimizerState() : null, _run.Generation));
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ring.Dispose();
        _trainer.Dispose();
    }

    private static RingCollective FormRing(JoinRun run, DataPlaneListener listener, Action<string> onRejected, CancellationToken cancellationToken)
    {
        var options = new CollectiveOptions(TimeSpan.FromSeconds(run.Config.CollectiveTimeoutSeconds))
        {
            Wire = Configuration.TrainingConfig.WireFormats[run.Config.WireFormat],
        };
        return RingCollective.Form(listener, run.Rank, run.Peers, run.RunSecret, options, onRejected, cancellationToken);
    }

    /// <summary>
    /// Broadcasts the source rank's weights and optimizer state over the ring and loads them on
    /// every other rank. The encoded lengths depend only on the model and the optimizer, so every
    /// rank sizes the buffer from its own replica.
    /// </summary>
    private void CopyStateFromSource()
    {
        if (_run.SourceRank < 0)
        {
            return;
        }

        InSync = _run.Rank == _run.SourceRank;

        var weights = _trainer.Weights();
        var optimizer = _trainer.OptimizerState();
        var buffer = new byte[weights.Length + optimizer.Length];
        weights.CopyTo(buffer, 0);
        optimizer.CopyTo(buffer, weights.Length);
        _ring.Broadcast(buffer, _run.SourceRank);
        if (_run.Rank != _run.SourceRank)
        {
            _trainer.LoadState(buffer.AsSpan(0, weights.Length), buffer.AsSpan(weights.Length));
        }

        InSync = true;
    }
}
