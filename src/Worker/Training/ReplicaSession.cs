using Akka.Actor;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Worker.Training;

/// <summary>
/// A worker's part in one run: its rank, ring, replica and shard of the data. Created and used
/// only on the worker's <see cref="DeepGen.Distributed.Training.TrainingThread"/>; reports go straight to the coordinator.
/// </summary>
public sealed class ReplicaSession : IDisposable
{
    private readonly JoinRun _run;
    private readonly ImageDataset _data;
    private readonly DistributedSampler _sampler;
    private readonly RingCollective _ring;
    private readonly IReplica _trainer;
    private readonly IActorRef _coordinator;

    private ReplicaSession(JoinRun run, ImageDataset data, RingCollective ring, IReplica trainer, IActorRef coordinator)
    {
        _run = run;
        _data = data;
        _ring = ring;
        _trainer = trainer;
        _coordinator = coordinator;
        _sampler = new DistributedSampler(data.Count, run.Peers.Count, run.Config.Seed);
    }

    /// <summary>
    /// Forms the ring with the run's peers and loads the initial weights. Blocks until every peer
    /// has connected or the collective timeout has passed.
    /// </summary>
    public static ReplicaSession Open(JoinRun run, ImageDataset data, DataPlaneListener listener, IActorRef coordinator, Action<string> onRejected, CancellationToken cancellationToken)
    {
        var options = new CollectiveOptions(TimeSpan.FromSeconds(run.Config.CollectiveTimeoutSeconds))
        {
            Wire = Configuration.TrainingConfig.WireFormats[run.Config.WireFormat],
        };
        var ring = RingCollective.Form(listener, run.Rank, run.Peers, run.RunSecret, options, onRejected, cancellationToken);
        try
        {
            var trainer = ReplicaFactory.Create(run.Config, data.Rows, data.Columns, run.InitialWeights);
            return new ReplicaSession(run, data, ring, trainer, coordinator);
        }
        catch
        {
            ring.Dispose();
            throw;
        }
    }

    /// <summary>SHA-256 of the replica's parameters.</summary>
    public string Checksum() => _trainer.Checksum();

    /// <summary>Closes the ring from any thread; a step blocked in the all-reduce fails at once.</summary>
    public void Abort() => _ring.Dispose();

    /// <summary>Trains one epoch, reporting every step, then reports the epoch with the parameter checksum.</summary>
    public void RunEpoch(TrainEpoch command)
    {
        var batchSize = _run.Config.BatchSizePerWorker;
        var steps = _sampler.StepsPerEpoch(batchSize);
        var checksumEvery = _run.Config.ChecksumEverySteps;
        var epochSpan = IterationTrace.ParseParent(command.TraceParent);
        for (var s = 0; s < steps; s++)
        {
            var step = command.FirstStep + s;
            using var stepSpan = IterationTrace.StartStep(epochSpan, _run.RunId, _run.Rank, step);
            var batch = _sampler.Batch(command.Epoch, _run.Rank, s, batchSize);
            var globalBatch = _sampler.GlobalBatchSize(s, batchSize);
            _trainer.SetLearningRateScale(LearningRateSchedule.Scale(_run.Config.LearningRateSchedule, step, (long)steps * _run.Config.Epochs));
            var metrics = _trainer.Step(_data, batch, step, _run.Rank, _run.Peers.Count, globalBatch, _ring);
            _coordinator.Tell(new StepCompleted(
                _run.RunId, _run.Rank, step, command.Epoch, metrics.Loss, metrics.Terms,
                metrics.Samples, metrics.StepSeconds, metrics.AllReduceSeconds, metrics.PhaseSeconds));
            if (_run.Rank == 0 && _run.Config.EvaluateEverySteps > 0 && step % _run.Config.EvaluateEverySteps == 0 && s < steps - 1)
            {
                _coordinator.Tell(new WeightsSnapshot(_run.RunId, command.Epoch, step, _trainer.Weights()));
            }
            if (checksumEvery > 0 && step % checksumEvery == 0)
            {
                _coordinator.Tell(new ParameterChecksum(_run.RunId, _run.Rank, step, _trainer.Checksum()));
            }
        }

        var weights = _run.Rank == 0 ? _trainer.Weights() : null;
        _coordinator.Tell(new EpochCompleted(_run.RunId, _run.Rank, command.Epoch, command.FirstStep + steps - 1, _trainer.Checksum(), weights));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ring.Dispose();
        _trainer.Dispose();
    }
}
