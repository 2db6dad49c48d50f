using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using DeepGen.Distributed.Cluster;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Worker;

/// <summary>Identity and data-plane socket of a worker node.</summary>
/// <param name="ExitWhenCoordinatorLeaves">Stop the actor system when the coordinator leaves the cluster (worker executables).</param>
/// <param name="Fault">Recovery drill: crash or hang this process before a given step; null in normal runs.</param>
public sealed record WorkerOptions(string WorkerId, string Host, DataPlaneListener DataPlane, string Device = "cpu", bool ExitWhenCoordinatorLeaves = false, FaultInjection? Fault = null);

/// <summary>
/// A worker node. It registers with the coordinator as soon as one is up in the cluster, then
/// trains the replica of each run it is given on a dedicated <see cref="TrainingThread"/>.
/// States: registering, idle (registered, no run), in a run.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Actors release resources in PostStop, which Akka calls when the actor stops.")]
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan RegistrationRetry = TimeSpan.FromSeconds(1);

    private readonly WorkerOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TrainingThread _thread;
    private readonly Dictionary<string, ImageDataset> _datasets = new(StringComparer.Ordinal);
    private Address? _coordinatorAddress;
    private IActorRef _coordinator = ActorRefs.Nobody;
    private volatile ReplicaSession? _session;
    private string? _runId;
    private int _rank = -1;
    private int _generation = -1;
    // Highest generation the coordinator has stopped; failures of older work are expected then.
    private volatile int _stoppedGeneration = -1;
    private CancellationTokenSource? _runCancellation;

    public WorkerActor(WorkerOptions options)
    {
        _options = options;
        var log = _log;
        _thread = new TrainingThread($"replica-{options.WorkerId}", error => log.Error(error, "Replica thread failed"));
        Registering();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for a worker with the given options.</summary>
    public static Props Props(WorkerOptions options) => Akka.Actor.Props.Create(() => new WorkerActor(options));

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberLeft), typeof(ClusterEvent.MemberExited), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        CloseSession();
        _thread.Dispose();
    }

    private void Registering()
    {
        Receive<ClusterEvent.MemberUp>(up =>
        {
            if (up.Member.HasRole(ClusterRoles.Coordinator))
            {
                _coordinatorAddress = up.Member.Address;
                SendRegistration();
                Timers.StartPeriodicTimer("register", RetryRegistration.Instance, RegistrationRetry);
            }
        });
        Receive<RetryRegistration>(_ => SendRegistration());
        Receive<WorkerAccepted>(_ =>
        {
            Timers.Cancel("register");
            _coordinator = Sender;
            _log.Info("Worker {WorkerId} registered with the coordinator at {CoordinatorAddress}", _options.WorkerId, _coordinatorAddress);
            Become(Idle);
        });
        CommonHandlers();
    }

    private void Idle()
    {
        Receive<JoinRun>(Join);
        Receive<WorkerAccepted>(_ => { });
        CommonHandlers();
    }

    private void InRun()
    {
        Receive<TrainEpoch>(command =>
        {
            if (command.RunId != _runId)
            {
                _log.Warning("Ignoring epoch {Epoch} of run {RunId}: this worker is in run {CurrentRunId}", command.Epoch, command.RunId, _runId);
                return;
            }

            var coordinator = _coordinator;
            var self = Self;
            _thread.Post(() => Guard(command.RunId, command.Generation, coordinator, self, () => _session!.RunEpoch(command)));
        });
        Receive<ReplicaFailed>(failed =>
        {
            if (failed.Generation <= _stoppedGeneration)
            {
                _log.Info("Run {RunId}: generation {Generation} stopped as the coordinator asked ({Reason})", failed.RunId, failed.Generation, failed.Reason);
                return;
            }

            _log.Error("Run {RunId}: replica failed: {Reason}", failed.RunId, failed.Reason);
            _coordinator.Tell(new WorkerFailed(failed.RunId, failed.Rank, failed.Reason, failed.RingBroken, failed.Generation));
        });
        Receive<AbortRing>(abort =>
        {
            if (abort.RunId != _runId)
            {
                return;
            }

            _log.Warning("Run {RunId}: closing the ring of generation {Generation}: {Reason}", abort.RunId, abort.Generation, abort.Reason);
            _stoppedGeneration = Math.Max(_stoppedGeneration, abort.Generation);
            _runCancellation?.Cancel();
            _session?.Abort();
            ReportStopped(abort.Generation);
        });
        Receive<SuspendTraining>(suspend =>
        {
            if (suspend.RunId != _runId)
            {
                return;
            }

            _log.Info("Run {RunId}: suspending generation {Generation} at the next iteration boundary: {Reason}", suspend.RunId, suspend.Generation, suspend.Reason);
            _stoppedGeneration = Math.Max(_stoppedGeneration, suspend.Generation);
            if (_session is { } session)
            {
                session.SuspendRequested = true;
            }

            ReportStopped(suspend.Generation);
        });
        Receive<LeaveRun>(leave =>
        {
            if (leave.RunId != _runId)
            {
                // The coordinator of a run this worker already left (for a newer run) stopped late.
                _log.Info("Ignoring the end of run {RunId}: this worker is in run {CurrentRunId}", leave.RunId, _runId);
                return;
            }

            _log.Info("Leaving run {RunId}: {Reason}", leave.RunId, leave.Reason);
            CloseSession();
            Become(Idle);
        });
        Receive<JoinRun>(join =>
        {
            if (join.RunId == _runId && join.Generation > _generation)
            {
                Join(join);
                return;
            }

            if (join.RunId != _runId && join.Generation == 0)
            {
                // A coordinator starts a new run only after the old one ended, and the LeaveRun of
                // the old run's coordinator may still be on its way.
                _log.Info("Leaving run {RunId} to join run {NewRunId}", _runId, join.RunId);
                CloseSession();
                Join(join);
                return;
            }

            _log.Warning("Ignoring run {RunId} generation {Generation}: this worker is in run {CurrentRunId} generation {CurrentGeneration}", join.RunId, join.Generation, _runId, _generation);
        });
        CommonHandlers();
    }

    private void CommonHandlers()
    {
        Receive<ClusterEvent.MemberUp>(_ => { });

        // A coordinator that shuts down gracefully is seen leaving (MemberLeft, MemberExited)
        // before it is removed. Reacting at the first of these lets this node stop while the
        // connection is still open.
        Receive<ClusterEvent.MemberLeft>(left => OnCoordinatorGone(left.Member));
        Receive<ClusterEvent.MemberExited>(exited => OnCoordinatorGone(exited.Member));
        Receive<ClusterEvent.MemberRemoved>(removed => OnCoordinatorGone(removed.Member));
        Receive<WorkerNotNeeded>(message => _log.Info("Coordinator does not need worker {WorkerId}: {Reason}", message.WorkerId, message.Reason));
        Receive<RetryRegistration>(_ => { });
    }

    private void OnCoordinatorGone(Member member)
    {
        if (!member.HasRole(ClusterRoles.Coordinator) || member.Address != _coordinatorAddress)
        {
            return;
        }

        _coordinatorAddress = null;
        _log.Info("The coordinator at {Address} left the cluster; dropping run {RunId}", member.Address, _runId ?? "(none)");
        CloseSession();
        if (_options.ExitWhenCoordinatorLeaves)
        {
            CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        }
        else
        {
            Become(Registering);
        }
    }

    private void SendRegistration()
    {
        if (_coordinatorAddress is null)
        {
            return;
        }

        var path = new RootActorPath(_coordinatorAddress) / "user" / ClusterRoles.CoordinatorActorName;
        Context.ActorSelection(path).Tell(new RegisterWorker(_options.WorkerId, _options.Host, _options.DataPlane.Endpoint, _options.Device));
    }

    /// <summary>
    /// Enters a run, or a new ring generation of the run this worker is in: on the training thread,
    /// after the work queued before, it forms the ring, builds or keeps the replica, copies the
    /// source rank's state when there is one, and reports <see cref="RunJoined"/>.
    /// </summary>
    private void Join(JoinRun join)
    {
        _runId = join.RunId;
        _rank = join.Rank;
        _generation = join.Generation;
        _coordinator = Sender;
        var coordinator = Sender;
        var self = Self;
        var log = _log;
        var cancellation = new CancellationTokenSource();
        _runCancellation = cancellation;
        _log.Info("Joining run {RunId} generation {Generation} as rank {Rank} of {WorldSize}", join.RunId, join.Generation, join.Rank, join.Peers.Count);
        _thread.Post(() => Guard(join.RunId, join.Generation, coordinator, self, () =>
        {
            if (_session is { } existing)
            {
                existing.Reform(join, _options.DataPlane, message => log.Warning("{Message}", message), cancellation.Token);
            }
            else
            {
                var data = LoadTrainingSet(join.Config.DataDirectory, join.Config.TrainLimit);
                _session = ReplicaSession.Open(join, data, _options.DataPlane, coordinator, message => log.Warning("{Message}", message), cancellation.Token);
                _session.BeforeStep = _options.Fault is { } fault ? fault.BeforeStep : null;
            }

            if (cancellation.IsCancellationRequested)
            {
                // The run or the generation ended while the ring was forming.
                return;
            }

            coordinator.Tell(new RunJoined(join.RunId, join.Rank, _session.Checksum(), join.Generation));
        }));
        Become(InRun);
    }

    /// <summary>
    /// Queues a <see cref="RingStopped"/> report behind the training thread's current work, so it
    /// describes the replica after the interrupted step has unwound.
    /// </summary>
    private void ReportStopped(int generation)
    {
        var coordinator = _coordinator;
        var runId = _runId!;
        var rank = _rank;
        _thread.Post(() =>
        {
            var session = _session;
            coordinator.Tell(session is null
                ? new RingStopped(runId, rank, generation, -1, 0, 0, Consistent: false)
                : new RingStopped(runId, rank, generation, session.LastCompletedStep, session.Epoch, session.Position, session.InSync));
        });
    }

    /// <summary>Runs replica work on the training thread and turns its failure into a report.</summary>
    private void Guard(string runId, int generation, IActorRef coordinator, IActorRef self, Action work)
    {
        try
        {
            work();
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            var ringBroken = error is CollectiveException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException or IOException;
            self.Tell(new ReplicaFailed(runId, _rank, $"{error.GetType().Name}: {error.Message}", ringBroken, generation));
        }
    }

    private ImageDataset LoadTrainingSet(string directory, int limit)
    {
        var key = $"{Path.GetFullPath(directory)}|{limit}";
        lock (_datasets)
        {
            if (!_datasets.TryGetValue(key, out var data))
            {
                data = FashionMnist.Load(directory, DatasetSplit.Train);
                if (limit > 0 && limit < data.Count)
                {
                    data = data.Slice(0, limit);
                }

                _datasets[key] = data;
            }

            return data;
        }
    }

    /// <summary>
    /// Ends this worker's part in the current run: cancels a ring still forming, closes the ring so a
    /// blocked collective fails at once, and disposes the replica on the training thread once the
    /// work queued before has finished.
    /// </summary>
    private void CloseSession()
    {
        _runCancellation?.Cancel();
        _runCancellation = null;
        _session?.Abort();
        _thread.Post(() =>
        {
            _session?.Dispose();
            _session = null;
        });
        _runId = null;
        _generation = -1;
        _stoppedGeneration = -1;
    }

    /// <summary>Timer tick: send the registration again until the coordinator accepts it.</summary>
    private sealed class RetryRegistration
    {
        public static readonly RetryRegistration Instance = new();
    }

    /// <summary>Posted by the training thread when replica work throws.</summary>
    private sealed record ReplicaFailed(string RunId, int Rank, string Reason, bool RingBroken, int Generation);
}
