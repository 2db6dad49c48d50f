using System.Security.Cryptography;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using DeepGen.Distributed.Coordinator.Evaluation;
using DeepGen.Distributed.Coordinator.Explain;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Coordinator.Training;

/// <summary>
/// Drives data-parallel runs. An explicit state machine:
/// idle → waiting for workers → joining (ring formation) → training → finishing (last evaluation) → idle.
/// Two more states serve elastic membership. In regrouping, the ring has stopped because a member
/// was lost or a worker joined, and survivors report their last step. In paused, fewer than
/// --min-workers workers are left.
/// </summary>
/// <remarks>
/// Each ring is a numbered generation. Losing a member aborts the generation's collective in flight;
/// <see cref="RegroupPolicy"/> then picks the survivor with the most applied steps, and the next
/// generation copies its state to every rank and trains the rest of the epoch's samples. A step
/// is written to metrics.csv once every rank of its generation has reported it, or, at a regroup,
/// when the chosen source has applied it. So metrics.csv contains each step exactly once.
/// </remarks>
public sealed class CoordinatorActor : ReceiveActor, IWithTimers
{
    /// <summary>How long the run waits for the last epoch's evaluation after training ends.</summary>
    private static readonly TimeSpan FinalEvaluationTimeout = TimeSpan.FromMinutes(10);

    /// <summary>With --min-workers below --workers, how long a new run waits for more workers once it has the minimum.</summary>
    private static readonly TimeSpan StartGrace = TimeSpan.FromSeconds(10);

    /// <summary>Ring generations in a row that may fail before their first step; then the run fails instead of retrying forever.</summary>
    private const int MaxFailedFormations = 3;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<RegisteredWorker> _registered = [];
    private readonly Dictionary<string, IActorRef> _workerRefs = new(StringComparer.Ordinal);
    private readonly RunTrace _trace = new();
    private RunState? _run;
    private bool _regrouping;

    public CoordinatorActor()
    {
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props() => Akka.Actor.Props.Create(() => new CoordinatorActor());

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));

    /// <summary>
    /// A restart would silently drop the run's state and leave the requester waiting forever, so
    /// the run in flight fails with the exception as its reason.
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        if (_run is not null)
        {
            FailRun($"the coordinator failed while handling {message.GetType().Name}: {reason.GetType().Name}: {reason.Message}");
        }

        base.PreRestart(reason, message);
    }

    /// <summary>A coordinator stopped in the middle of a run (a sweep cancels trials so) sends its workers back to idle.</summary>
    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        if (_run is not null)
        {
            LeaveAll("the run's coordinator stopped");
            _trace.End("the run's coordinator stopped");
            _run.Output.Dispose();
        }
    }

    private void Idle()
    {
        Receive<StartRun>(Start);
        Receive<RegisterWorker>(Register);
        CommonHandlers();
    }

    private void WaitingForWorkers()
    {
        Receive<RegisterWorker>(registration =>
        {
            Register(registration);
            TryAssignRanks();
        });
        Receive<StartGraceOver>(_ =>
        {
            _run!.StartGraceOver = true;
            TryAssignRanks();
        });
        Receive<WorkerWaitTimedOut>(_ => FailRun(
            $"only {_registered.Count} of {_run!.Config.EffectiveMinWorkers} workers registered within {_run.WorkerWaitTimeout.TotalSeconds:0} s; start more workers or lower --workers / --min-workers"));
        RunHandlers();
    }

    private void Joining()
    {
        Receive<RunJoined>(joined =>
        {
            var run = _run!;
            if (!IsCurrent(joined.RunId) || joined.Generation != run.Generation)
            {
                return;
            }

            run.JoinChecksums[joined.Rank] = joined.ParameterChecksum;
            if (run.JoinChecksums.Count < run.Members.Count)
            {
                return;
            }

            Timers.Cancel("join-timeout");
            var checksums = Enumerable.Range(0, run.Members.Count).Select(r => run.JoinChecksums[r]).ToList();
            if (!VerifyConsistency(checksums, run.Committed.Step))
            {
                return;
            }

            _log.Info("Run {RunId}: ring generation {Generation} of {WorldSize} formed and weights identical on every rank", run.RunId, run.Generation, run.Members.Count);
            run.FailedFormations = 0;
            Train();
        });
        Receive<JoinTimedOut>(timeout =>
        {
            var run = _run!;
            if (timeout.Generation != run.Generation)
            {
                return;
            }

            var missing = Enumerable.Range(0, run.Members.Count).Where(r => !run.JoinChecksums.ContainsKey(r)).Select(r => run.Members[r]).ToList();
            var names = string.Join(", ", missing.Select(w => w.Registration.WorkerId));
            if (run.Generation == 0)
            {
                FailRun($"ranks did not form the ring in time: {names} never reported; check that workers can reach each other's data-plane endpoints");
                return;
            }

            BeginRegroup($"{names} did not join ring generation {run.Generation} in time", missing, abort: true);
        });
        TrainingHandlers();
    }

    private void Training()
    {
        Receive<StepCompleted>(OnStep);
        Receive<ParameterChecksum>(OnChecksum);
        Receive<EpochCompleted>(OnEpochCompleted);
        Receive<WeightsSnapshot>(snapshot =>
        {
            if (IsCurrent(snapshot.RunId))
            {
                _run!.Evaluator.Tell(new EvaluateSnapshot(snapshot.Epoch, snapshot.Step, snapshot.Weights, EpochEnd: false));
                _run.CamReporter?.Tell(new ReportCam(snapshot.Epoch, snapshot.Step, snapshot.Weights));
            }
        });
        Receive<StateSnapshot>(snapshot =>
        {
            if (IsCurrent(snapshot.RunId))
            {
                _run!.PendingSnapshot = snapshot;
                WriteSnapshotWhenCommitted();
            }
        });
        Receive<RegisterWorker>(registration =>
        {
            Register(registration);
            var run = _run!;
            if (run.Members.Count < run.Config.Workers && FreeWorkers().Count > 0)
            {
                BeginRegroup($"worker {registration.WorkerId} joined; the ring grows from {run.Members.Count} at the next iteration boundary", [], abort: false);
            }
        });
        TrainingHandlers();
    }

    /// <summary>The current generation's ring received a stop request, and survivors report their last step.</summary>
    private void Regrouping()
    {
        // Steps still finishing in the stopped generation count: they were applied on every rank that reports them.
        Receive<StepCompleted>(OnStep);
        Receive<StateSnapshot>(snapshot =>
        {
            if (IsCurrent(snapshot.RunId))
            {
                _run!.PendingSnapshot = snapshot;
            }
        });
        Receive<RingStopped>(stopped =>
        {
            var run = _run!;
            if (!IsCurrent(stopped.RunId) || stopped.Generation != run.Generation || stopped.Rank >= run.Members.Count)
            {
                return;
            }

            var member = run.Members[stopped.Rank];
            if (!run.Lost.Contains(member.Path))
            {
                run.StopReports[member.Path] = stopped;
            }

            CompleteRegroupWhenReported();
        });
        Receive<RegroupTimedOut>(timeout =>
        {
            var run = _run!;
            if (timeout.Generation != run.Generation)
            {
                return;
            }

            var silent = run.AliveMembers.Where(m => !run.StopReports.ContainsKey(m.Path)).ToList();
            _log.Warning("Run {RunId}: {Workers} did not report within the regroup timeout; treating them as lost", run.RunId, string.Join(", ", silent.Select(w => w.Registration.WorkerId)));
            foreach (var worker in silent)
            {
                RemoveMember(worker.Path, "it did not report after its ring was stopped");
            }

            CompleteRegroupWhenReported();
        });
        Receive<RegisterWorker>(Register);
        Receive<WorkerFailed>(failed =>
        {
            if (IsCurrent(failed.RunId) && !failed.RingBroken && failed.Generation == _run!.Generation)
            {
                FailRun($"rank {failed.Rank} failed: {failed.Reason}");
            }
        });
        Receive<ClusterEvent.UnreachableMember>(unreachable => LoseMemberAt(unreachable.Member.Address, "became unreachable (no heartbeat within the failure detector's pause)"));
        Receive<ClusterEvent.MemberRemoved>(removed => LoseMemberAt(removed.Member.Address, "left the cluster"));
        Receive<Terminated>(terminated => LoseMember(terminated.ActorRef.Path.ToString(), "its actor stopped"));
        EvaluationHandlers();
        IgnoreStale();
    }

    /// <summary>Fewer workers than --min-workers: wait for registrations.</summary>
    private void Paused()
    {
        Receive<RegisterWorker>(registration =>
        {
            Register(registration);
            var run = _run!;
            if (run.Survivors.Count + FreeWorkers().Count >= run.Config.EffectiveMinWorkers)
            {
                Timers.Cancel("pause-timeout");
                var decision = RegroupPolicy.Decide(run.Survivors, run.Committed, FreeWorkers(), run.Config.Workers, run.Config.EffectiveMinWorkers);
                Decided(decision);
            }
        });
        Receive<PauseTimedOut>(_ => FailRun(
            $"paused below --min-workers {_run!.Config.EffectiveMinWorkers} for {_run.WorkerWaitTimeout.TotalSeconds:0} s and no worker joined; start more workers, then resume with 'deepgen train --resume {_run.Output.Directory}'"));
        Receive<ClusterEvent.UnreachableMember>(unreachable => ForgetSurvivorsAt(unreachable.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(removed => ForgetSurvivorsAt(removed.Member.Address));
        Receive<Terminated>(terminated =>
        {
            ForgetWorker(terminated.ActorRef.Path.ToString(), "its actor stopped");
            ForgetSurvivor(terminated.ActorRef.Path.ToString());
        });
        Receive<WorkerFailed>(_ => { });
        EvaluationHandlers();
        IgnoreStale();
    }

    private void Finishing()
    {
        Receive<FinalEvaluationTimedOut>(_ =>
        {
            _log.Warning("Run {RunId}: the last evaluation did not finish within {Minutes} minutes; completing without it", _run!.RunId, FinalEvaluationTimeout.TotalMinutes);
            _run.Observer.Log($"the last evaluation did not finish within {FinalEvaluationTimeout.TotalMinutes:0} minutes; the checkpoint is written, evaluation.csv lacks the last epoch");
            CompleteRun();
        });
        // Every rank has left the run: only the last evaluation matters now, and a worker that
        // goes away no longer affects the result.
        Receive<RegisterWorker>(Register);
        EvaluationHandlers();
        CommonHandlers();
    }

    /// <summary>
    /// Messages that can still arrive from a stopped ring generation or an earlier state (late
    /// reports, cancelled timers). They are dropped; registered last, so state handlers come first.
    /// </summary>
    private void IgnoreStale()
    {
        Receive<StepCompleted>(_ => { });
        Receive<EpochCompleted>(_ => { });
        Receive<ParameterChecksum>(_ => { });
        Receive<WeightsSnapshot>(_ => { });
        Receive<StateSnapshot>(_ => { });
        Receive<RunJoined>(_ => { });
        Receive<RingStopped>(_ => { });
        Receive<JoinTimedOut>(_ => { });
        Receive<RegroupTimedOut>(_ => { });
        Receive<StartGraceOver>(_ => { });
        Receive<PauseTimedOut>(_ => { });
        Receive<WorkerWaitTimedOut>(_ => { });
        Receive<StartRun>(start => Sender.Tell(new RunFailed("", $"a run is already in progress ({_run?.RunId}); wait for it to finish")));
    }

    private void CommonHandlers()
    {
        Receive<Terminated>(terminated => ForgetWorker(terminated.ActorRef.Path.ToString(), "its actor stopped"));
        Receive<ClusterEvent.UnreachableMember>(_ => { });
        Receive<ClusterEvent.MemberRemoved>(removed => ForgetWorkersAt(removed.Member.Address, "it left the cluster"));
        Receive<SnapshotEvaluated>(_ => { });
        Receive<SnapshotEvaluationFailed>(_ => { });
        Receive<CamReportWritten>(_ => { });
        Receive<StepCompleted>(_ => { });
        Receive<EpochCompleted>(_ => { });
        Receive<RingStopped>(_ => { });
        Receive<RunJoined>(_ => { });
        Receive<StateSnapshot>(_ => { });
        Receive<WorkerFailed>(failed => _log.Warning("Worker of rank {Rank} in finished run {RunId} reported: {Reason}", failed.Rank, failed.RunId, failed.Reason));
        Receive<StartRun>(start => Sender.Tell(new RunFailed("", $"a run is already in progress ({_run?.RunId}); wait for it to finish")));
    }

    /// <summary>Handlers of the states in which a ring generation is forming or training.</summary>
    private void TrainingHandlers()
    {
        Receive<WorkerFailed>(failed =>
        {
            var run = _run!;
            if (!IsCurrent(failed.RunId) || failed.Generation != run.Generation)
            {
                return;
            }

            if (failed.RingBroken)
            {
                BeginRegroup($"rank {failed.Rank}'s ring failed: {failed.Reason}", [], abort: true);
            }
            else
            {
                FailRun($"rank {failed.Rank} failed: {failed.Reason}");
            }
        });
        Receive<ClusterEvent.UnreachableMember>(unreachable => LoseMemberAt(unreachable.Member.Address, "became unreachable (no heartbeat within the failure detector's pause)"));
        Receive<ClusterEvent.MemberRemoved>(removed => LoseMemberAt(removed.Member.Address, "left the cluster"));
        Receive<Terminated>(terminated => LoseMember(terminated.ActorRef.Path.ToString(), "its actor stopped"));
        RunHandlers();
    }

    private void RunHandlers()
    {
        Receive<RegisterWorker>(Register);
        Receive<WorkerFailed>(failed =>
        {
            if (IsCurrent(failed.RunId))
            {
                FailRun($"rank {failed.Rank} failed: {failed.Reason}");
            }
        });
        Receive<ClusterEvent.UnreachableMember>(unreachable => ForgetWorkersAt(unreachable.Member.Address, "it became unreachable"));
        Receive<ClusterEvent.MemberRemoved>(removed => ForgetWorkersAt(removed.Member.Address, "it left the cluster"));
        Receive<Terminated>(terminated => ForgetWorker(terminated.ActorRef.Path.ToString(), "its actor stopped"));
        EvaluationHandlers();
        IgnoreStale();
    }

    private void EvaluationHandlers()
    {
        Receive<CamReportWritten>(OnCamReport);
        Receive<SnapshotEvaluated>(OnEvaluated);
        Receive<SnapshotEvaluationFailed>(failed =>
        {
            _log.Warning("Run {RunId}: evaluation of epoch {Epoch} failed: {Reason}", _run?.RunId, failed.Epoch, failed.Reason);
            _run?.Observer.Log($"evaluation of epoch {failed.Epoch} failed: {failed.Reason}");
            if (_run is not null && failed.EpochEnd && failed.Epoch == _run.Config.Epochs)
            {
                _run.FinalEvaluationDone = true;
                CompleteRunWhenReportsAreDone();
            }
        });
    }

    private void Start(StartRun start)
    {
        var errors = start.Config.Validate();
        if (errors.Count > 0)
        {
            Sender.Tell(new RunFailed("", string.Join(" ", errors)));
            return;
        }

        ImageDataset train;
        ImageDataset test;
        RunOutput output;
        try
        {
            train = Limit(FashionMnist.Load(start.Config.DataDirectory, DatasetSplit.Train), start.Config.TrainLimit);
            test = Limit(FashionMnist.Load(start.Config.DataDirectory, DatasetSplit.Test), start.Config.TestLimit);
            var preflight = RunPreflight.CheckBatchNormBatches(start.Config, train.Count) ?? RunPreflight.CheckFidClassifier(start.Config);
            if (preflight is not null)
            {
                Sender.Tell(new RunFailed("", preflight));
                return;
            }

            if (start.Resume is { } resume && (resume.Position < 0 || resume.Position >= train.Count || resume.Epoch >= start.Config.Epochs))
            {
                Sender.Tell(new RunFailed("", resume.Epoch >= start.Config.Epochs
                    ? $"the checkpoint at step {resume.Step} is after the last epoch ({resume.Epoch} of {start.Config.Epochs}); the run has nothing left to train"
                    : $"the checkpoint's sample position {resume.Position} is outside the training set of {train.Count} images; was the run trained with another --train-limit?"));
                return;
            }

            output = start.Resume is { } from ? RunOutput.Resume(start.RunDirectory, from.Step) : RunOutput.Create(start.RunDirectory, start.Config);
        }
        catch (Exception error) when (error is DatasetFormatException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            Sender.Tell(new RunFailed("", error.Message));
            return;
        }

        var runId = $"run-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        var sampler = new DistributedSampler(train.Count, start.Config.Workers, start.Config.Seed);
        // The seeded initial weights come first: libtorch's default generator is process-wide, and
        // the evaluation actor's thread draws from it when it builds its own copy of the model.
        var initialWeights = start.Resume?.Weights ?? ReplicaFactory.InitialWeights(start.Config, train.Rows, train.Columns);
        var evaluator = Context.ActorOf(EvaluationActor.Props(start.Config, test, train, output), $"evaluation-{runId}");
        var camReporter = CamReporterActor.Supports(start.Config)
            ? Context.ActorOf(CamReporterActor.Props(start.Config, test, (float)train.MeanPixelValue(), output), $"cam-{runId}")
            : null;
        _run = new RunState(runId, start.Config, output, start.Observer, Sender, evaluator, camReporter, initialWeights, sampler.StepsPerEpoch(start.Config.BatchSizePerWorker), start.WorkerWaitTimeout, train.Count)
        {
            InitialOptimizerState = start.Resume?.OptimizerState,
            Committed = start.Resume is { } r ? new TrainingPosition(r.Step, r.Epoch + 1, r.Position) : new TrainingPosition(0, 1, 0),
        };
        _log.Info("Run {RunId} accepted: {Workers} workers (at least {MinWorkers}) × batch {Batch}, {Epochs} epochs of {Steps} steps on {Images} images",
            [runId, start.Config.Workers, start.Config.EffectiveMinWorkers, start.Config.BatchSizePerWorker, start.Config.Epochs, _run.StepsPerEpoch, train.Count]);
        if (start.Resume is { } point)
        {
            _log.Info("Run {RunId} resumes after step {Step} (epoch {Epoch}, sample {Position} of the epoch); rows after that step were removed from metrics.csv and evaluation.csv", runId, point.Step, point.Epoch + 1, point.Position);
            start.Observer.Log($"resuming after step {point.Step}: epoch {point.Epoch + 1}, {point.Position} samples of it already trained");
        }

        _log.Info("Run {RunId} writes to {Directory}", runId, output.Directory);
        _trace.StartRun(runId, start.Config.Model, start.Config.Workers);
        start.Observer.RunStarted(runId, start.Config, _run.StepsPerEpoch);
        Become(WaitingForWorkers);
        Timers.StartSingleTimer("worker-wait", WorkerWaitTimedOut.Instance, start.WorkerWaitTimeout);
        if (start.Config.EffectiveMinWorkers < start.Config.Workers)
        {
            Timers.StartSingleTimer("start-grace", StartGraceOver.Instance, StartGrace);
        }

        TryAssignRanks();
    }

    /// <summary>
    /// Starts the run with --workers workers, or, once the start grace is over, with every
    /// registered worker when there are at least --min-workers.
    /// </summary>
    private void TryAssignRanks()
    {
        var run = _run!;
        var worldSize = run.StartGraceOver && _registered.Count >= run.Config.EffectiveMinWorkers ? Math.Min(_registered.Count, run.Config.Workers) : run.Config.Workers;
        var decision = RankAssignmentPolicy.Assign(_registered, worldSize);
        if (!decision.Ready)
        {
            _log.Info("Run {RunId}: {Reason}", run.RunId, decision.Reason);
            run.Observer.Log(decision.Reason);
            return;
        }

        Timers.Cancel("worker-wait");
        Timers.Cancel("start-grace");
        _log.Info("Run {RunId}: ranks assigned: {Reason}", run.RunId, decision.Reason);
        FormGeneration(decision.Ranks, sourceRank: -1);
    }

    /// <summary>Sends every member its rank in a new ring generation and waits for the ring to form.</summary>
    private void FormGeneration(IReadOnlyList<RegisteredWorker> members, int sourceRank)
    {
        var run = _run!;
        run.Generation = sourceRank < 0 && run.Members.Count == 0 ? 0 : run.Generation + 1;
        run.Members = members;
        run.Lost.Clear();
        _regrouping = false;
        run.GenerationStart = run.Committed;
        run.JoinChecksums.Clear();
        run.StopReports.Clear();
        run.Survivors = [];
        run.Observer.RanksAssigned(members.Select((w, rank) => new RankedWorker(rank, w.Registration.WorkerId, w.Registration.Host)).ToList());
        _trace.AddEvent("ring_formed", ("deepgen.generation", run.Generation), ("deepgen.workers", string.Join(",", members.Select(w => w.Registration.WorkerId))), ("deepgen.source_rank", sourceRank));
        var secret = RandomNumberGenerator.GetBytes(32);
        var peers = members.Select(w => w.Registration.DataPlane).ToList();
        var traceParent = _trace.RunTraceParent;
        for (var rank = 0; rank < members.Count; rank++)
        {
            _workerRefs[members[rank].Path].Tell(new JoinRun(
                run.RunId, rank, run.Config, peers, secret, run.InitialWeights, traceParent, run.Generation, sourceRank,
                sourceRank < 0 ? run.InitialOptimizerState : null));
        }

        _log.Info("Run {RunId}: forming ring generation {Generation}: {Members}", run.RunId, run.Generation,
            string.Join(", ", members.Select((w, rank) => $"rank {rank} = {w.Registration.WorkerId}")));
        Become(Joining);
        Timers.StartSingleTimer("join-timeout", new JoinTimedOut(run.Generation), TimeSpan.FromSeconds(run.Config.CollectiveTimeoutSeconds + 60));
    }

    /// <summary>Starts (or continues) the epoch at the committed position.</summary>
    private void Train()
    {
        var run = _run!;
        var at = run.Committed;
        run.EpochReports.Clear();
        if (at.Position == 0)
        {
            _log.Info("Run {RunId}: starting epoch {Epoch}/{Epochs} at step {Step}", run.RunId, at.Epoch, run.Config.Epochs, at.Step + 1);
        }
        else
        {
            _log.Info("Run {RunId}: continuing epoch {Epoch}/{Epochs} at step {Step}, sample {Position} of {Count}, world size {WorldSize}", [run.RunId, at.Epoch, run.Config.Epochs, at.Step + 1, at.Position, run.TrainCount, run.Members.Count]);
        }

        var traceParent = _trace.StartEpoch(at.Epoch, at.Step + 1);
        foreach (var worker in run.Members)
        {
            _workerRefs[worker.Path].Tell(new TrainEpoch(run.RunId, at.Epoch, at.Step + 1, traceParent, at.Position, run.Generation));
        }

        Become(Training);
    }

    private void OnStep(StepCompleted step)
    {
        var run = _run;
        if (run is null || !IsCurrent(step.RunId) || step.Generation != run.Generation || step.Step <= run.Committed.Step)
        {
            return;
        }

        run.Observer.RankStepCompleted(step);
        if (!run.PendingSteps.TryGetValue(step.Step, out var pending))
        {
            pending = new PendingStep(step);
            run.PendingSteps[step.Step] = pending;
        }

        pending.Ranks.Add(step.Rank);
        if (step.Rank != 0)
        {
            _log.Debug("Run {RunId}: rank {Rank} finished step {Step} in {Seconds:F4} s", run.RunId, step.Rank, step.Step, step.StepSeconds);
        }

        while (run.PendingSteps.TryGetValue(run.Committed.Step + 1, out var next) && next.Ranks.Count >= run.Members.Count)
        {
            Commit(next.Report);
        }
    }

    /// <summary>Writes a step to metrics.csv and advances the committed position past its samples.</summary>
    private void Commit(StepCompleted step)
    {
        var run = _run!;
        run.PendingSteps.Remove(step.Step);
        var position = run.Committed.Epoch == step.Epoch ? run.Committed.Position + step.Samples : step.Samples;
        run.Committed = new TrainingPosition(step.Step, step.Epoch, position);
        var samplesPerSecond = step.StepSeconds > 0 ? step.Samples / step.StepSeconds : 0;
        run.Output.AppendStep(step.Step, step.Epoch, step.Loss, step.Terms, samplesPerSecond, step.StepSeconds, step.AllReduceSeconds, step.WorldSize, step.Samples);
        var runTag = new KeyValuePair<string, object?>(DeepGenTelemetry.RunIdTag, run.RunId);
        DeepGenTelemetry.Loss.Record(step.Loss, new KeyValuePair<string, object?>("term", "loss"), runTag);
        for (var t = 0; t < step.Terms.Count && t < run.Config.Family.StepTerms.Count; t++)
        {
            DeepGenTelemetry.Loss.Record(step.Terms[t], new KeyValuePair<string, object?>("term", run.Config.Family.StepTerms[t]), runTag);
        }

        DeepGenTelemetry.Throughput.Record(samplesPerSecond, runTag);
        run.Observer.StepCompleted(step, samplesPerSecond);
        WriteSnapshotWhenCommitted();
    }

    /// <summary>Writes the pending step checkpoint once its step is in metrics.csv, so a resume never skips a row.</summary>
    private void WriteSnapshotWhenCommitted()
    {
        var run = _run!;
        if (run.PendingSnapshot is not { } snapshot || snapshot.Step > run.Committed.Step)
        {
            return;
        }

        run.PendingSnapshot = null;
        if (!ParameterCodec.AllFinite(snapshot.Weights))
        {
            _log.Warning("Run {RunId}: the weights after step {Step} contain NaN or infinite values; that checkpoint is not written", run.RunId, snapshot.Step);
            return;
        }

        var path = WriteCheckpoint(CheckpointCatalog.StepFileName(snapshot.Step), new CheckpointData(run.Config, snapshot.Epoch - 1, snapshot.Step, snapshot.Weights, snapshot.Position, snapshot.OptimizerState));
        _log.Info("Run {RunId}: checkpoint {Path} written after step {Step}", run.RunId, path, snapshot.Step);
    }

    private string WriteCheckpoint(string fileName, CheckpointData data)
    {
        var run = _run!;
        var path = run.Output.WriteCheckpoint(fileName, data, run.Config.KeepCheckpoints);
        run.LastCheckpoint = DateTime.UtcNow;
        run.Observer.CheckpointWritten(path, data.Epoch, data.Step);
        _trace.AddEvent("checkpoint_written", ("deepgen.path", path), ("deepgen.step", data.Step));
        return path;
    }

    private void OnChecksum(ParameterChecksum report)
    {
        if (!IsCurrent(report.RunId))
        {
            return;
        }

        var run = _run!;
        if (!run.StepChecksums.TryGetValue(report.Step, out var byRank))
        {
            byRank = new Dictionary<int, string>();
            run.StepChecksums[report.Step] = byRank;
        }

        byRank[report.Rank] = report.Checksum;
        if (byRank.Count == run.Members.Count)
        {
            run.StepChecksums.Remove(report.Step);
            VerifyConsistency(Enumerable.Range(0, run.Members.Count).Select(r => byRank.GetValueOrDefault(r, "")).ToList(), report.Step);
        }
    }

    private void OnEpochCompleted(EpochCompleted report)
    {
        var run = _run!;
        if (!IsCurrent(report.RunId) || report.Epoch != run.Committed.Epoch || report.Generation != run.Generation)
        {
            return;
        }

        run.EpochReports[report.Rank] = report;
        if (run.EpochReports.Count < run.Members.Count)
        {
            return;
        }

        var checksums = Enumerable.Range(0, run.Members.Count).Select(r => run.EpochReports[r].Checksum).ToList();
        if (!VerifyConsistency(checksums, report.LastStep))
        {
            return;
        }

        if (run.Committed.Step != report.LastStep)
        {
            FailRun($"epoch {report.Epoch} ended at step {report.LastStep}, but metrics.csv holds steps up to {run.Committed.Step}; a step report was lost");
            return;
        }

        var weights = run.EpochReports[0].Weights;
        if (weights is null)
        {
            FailRun($"rank 0 sent no weights at the end of epoch {report.Epoch}");
            return;
        }

        if (!ParameterCodec.AllFinite(weights))
        {
            FailRun($"rank 0's weights contain NaN or infinite values after step {report.LastStep}; the checkpoint of epoch {report.Epoch} is not written, earlier ones are kept");
            return;
        }

        run.LastWeights = weights;
        run.LastCompletedEpoch = report.Epoch;
        run.PendingSnapshot = null;
        var state = new CheckpointData(run.Config, report.Epoch, report.LastStep, weights, 0, run.EpochReports[0].OptimizerState);
        var epochCheckpoint = WriteCheckpoint($"epoch-{report.Epoch:000}.ckpt", state);
        _log.Info("Run {RunId}: checkpoint {Path} written after epoch {Epoch}", run.RunId, epochCheckpoint, report.Epoch);
        run.Evaluator.Tell(new EvaluateSnapshot(report.Epoch, report.LastStep, weights, EpochEnd: true));
        run.CamReporter?.Tell(new ReportCam(report.Epoch, report.LastStep, weights));
        if (report.Epoch < run.Config.Epochs)
        {
            run.Committed = new TrainingPosition(report.LastStep, report.Epoch + 1, 0);
            if (run.Members.Count < run.Config.Workers && FreeWorkers().Count > 0)
            {
                // Between epochs every replica is idle and identical: grow the ring now.
                BeginRegroup($"{FreeWorkers().Count} idle worker(s) registered; the ring grows from {run.Members.Count} between epochs", [], abort: false);
                return;
            }

            Train();
            return;
        }

        run.FinalStep = report.LastStep;
        var checkpoint = WriteCheckpoint("final.ckpt", state);
        _log.Info("Run {RunId}: all {Epochs} epochs trained ({Steps} steps); final checkpoint {Path}; waiting for the last evaluation", run.RunId, run.Config.Epochs, report.LastStep, checkpoint);
        run.Observer.Log($"checkpoint written: {checkpoint}");
        LeaveAll("training finished");
        Become(Finishing);
        Timers.StartSingleTimer("final-evaluation", FinalEvaluationTimedOut.Instance, FinalEvaluationTimeout);
    }

    /// <summary>
    /// Stops the current generation: with <paramref name="abort"/>, the ring closes at once (a member
    /// is lost); without, ranks stop at the next iteration boundary they agree on (workers join).
    /// </summary>
    private void BeginRegroup(string reason, IReadOnlyList<RegisteredWorker> lost, bool abort)
    {
        var run = _run!;
        if (run.JoinChecksums.Count < run.Members.Count && ++run.FailedFormations >= MaxFailedFormations)
        {
            FailRun($"ring generation {run.Generation} failed to form {MaxFailedFormations} times in a row; last reason: {reason}. Check that every worker can reach the others' data-plane endpoints");
            return;
        }

        Timers.Cancel("join-timeout");
        foreach (var worker in lost)
        {
            RemoveMember(worker.Path, reason);
        }

        _log.Warning("Run {RunId}: stopping ring generation {Generation} ({Mode}) because {Reason}", run.RunId, run.Generation, abort ? "abort" : "at the next iteration boundary", reason);
        run.Observer.Log($"regrouping: {reason}");
        _trace.AddEvent("ring_stopped", ("deepgen.generation", run.Generation), ("deepgen.abort", abort), ("deepgen.reason", reason));
        run.StopReports.Clear();
        _regrouping = true;
        foreach (var member in run.AliveMembers)
        {
            if (_workerRefs.TryGetValue(member.Path, out var actor))
            {
                actor.Tell(abort ? new AbortRing(run.RunId, run.Generation, reason) : new SuspendTraining(run.RunId, run.Generation, reason));
            }
        }

        Become(Regrouping);
        Timers.StartSingleTimer("regroup-timeout", new RegroupTimedOut(run.Generation), TimeSpan.FromSeconds(run.Config.CollectiveTimeoutSeconds + 30));
        CompleteRegroupWhenReported();
    }

    private void CompleteRegroupWhenReported()
    {
        var run = _run!;
        if (run.AliveMembers.Any(m => !run.StopReports.ContainsKey(m.Path)))
        {
            return;
        }

        Timers.Cancel("regroup-timeout");
        _regrouping = false;
        run.Survivors = run.AliveMembers.Select(m => (m, run.StopReports[m.Path])).ToList();
        var decision = RegroupPolicy.Decide(run.Survivors, run.GenerationStart, FreeWorkers(), run.Config.Workers, run.Config.EffectiveMinWorkers);
        Decided(decision);
    }

    private void Decided(RegroupDecision decision)
    {
        var run = _run!;
        if (decision.Source is null)
        {
            FailRun($"{decision.Reason}; resume from the last checkpoint with 'deepgen train --resume {run.Output.Directory}'");
            return;
        }

        // Steps up to the source's last one were applied by the state the run continues from.
        foreach (var step in run.PendingSteps.Keys.Where(s => s <= decision.Resume.Step).Order().ToList())
        {
            if (step == run.Committed.Step + 1)
            {
                Commit(run.PendingSteps[step].Report);
            }
        }

        if (run.Committed.Step != decision.Resume.Step)
        {
            FailRun($"the surviving state is after step {decision.Resume.Step}, but reports exist only up to step {run.Committed.Step}; resume from the last checkpoint with 'deepgen train --resume {run.Output.Directory}'");
            return;
        }

        // An epoch whose end was already processed continues with the next epoch.
        run.Committed = decision.Resume.Position >= run.TrainCount && decision.Resume.Epoch <= run.LastCompletedEpoch
            ? new TrainingPosition(decision.Resume.Step, decision.Resume.Epoch + 1, 0)
            : decision.Resume;
        run.PendingSteps.Clear();
        run.StepChecksums.Clear();
        if (run.PendingSnapshot is { } snapshot && snapshot.Step > decision.Resume.Step)
        {
            run.PendingSnapshot = null;
        }

        if (decision.Pause)
        {
            _log.Warning("Run {RunId}: {Reason}", run.RunId, decision.Reason);
            run.Observer.Log(decision.Reason);
            Become(Paused);
            Timers.StartSingleTimer("pause-timeout", PauseTimedOut.Instance, run.WorkerWaitTimeout);
            return;
        }

        _log.Info("Run {RunId}: {Reason}", run.RunId, decision.Reason);
        run.Observer.Log(decision.Reason);
        _trace.AddEvent("resharded", ("deepgen.step", run.Committed.Step), ("deepgen.position", run.Committed.Position), ("deepgen.world_size", decision.Members.Count));
        var sourceRank = decision.Members.ToList().FindIndex(m => m.Path == decision.Source.Path);
        FormGeneration(decision.Members, sourceRank);
    }

    private void LoseMemberAt(Address address, string description)
    {
        foreach (var path in _workerRefs.Where(kv => kv.Value.Path.Address == address).Select(kv => kv.Key).ToList())
        {
            LoseMember(path, description);
        }
    }

    /// <summary>A worker is gone: forget it, and when it was a member of the ring, stop the generation.</summary>
    private void LoseMember(string path, string description)
    {
        var run = _run!;
        var member = run.Members.FirstOrDefault(m => m.Path == path);
        ForgetWorker(path, description);
        if (member is null || run.Lost.Contains(path))
        {
            return;
        }

        var rank = run.Members.ToList().IndexOf(member);
        var reason = $"rank {rank} ({member.Registration.WorkerId}) {description}";
        if (_regrouping)
        {
            RemoveMember(path, reason);
            CompleteRegroupWhenReported();
            return;
        }

        BeginRegroup(reason, [member], abort: true);
    }

    private void RemoveMember(string path, string reason)
    {
        var run = _run!;
        var member = run.Members.FirstOrDefault(m => m.Path == path);
        if (member is null || !run.Lost.Add(path))
        {
            return;
        }

        // Members keeps its order until the next generation: ranks in reports index it.
        _log.Warning("Run {RunId}: {WorkerId} leaves the ring: {Reason}", run.RunId, member.Registration.WorkerId, reason);
        run.StopReports.Remove(path);
        ForgetWorker(path, reason);
    }

    private void ForgetSurvivorsAt(Address address)
    {
        foreach (var path in _workerRefs.Where(kv => kv.Value.Path.Address == address).Select(kv => kv.Key).ToList())
        {
            ForgetWorker(path, "it left the cluster");
            ForgetSurvivor(path);
        }
    }

    private void ForgetSurvivor(string path)
    {
        var run = _run!;
        if (run.Survivors.Any(s => s.Worker.Path == path))
        {
            run.Survivors = run.Survivors.Where(s => s.Worker.Path != path).ToList();
            var best = run.Survivors.Where(s => s.Report.Consistent).Select(s => s.Report.LastCompletedStep < 0 ? run.GenerationStart.Step : s.Report.LastCompletedStep).DefaultIfEmpty(-1).Max();
            if (best < run.Committed.Step)
            {
                FailRun($"the paused run lost its last replica holding step {run.Committed.Step}; resume from the last checkpoint with 'deepgen train --resume {run.Output.Directory}'");
            }
        }
    }

    /// <summary>Registered workers that are not members of the run's ring, in registration order.</summary>
    private List<RegisteredWorker> FreeWorkers()
    {
        var run = _run;
        var inRun = new HashSet<string>((run?.AliveMembers ?? []).Select(m => m.Path).Concat(run?.Survivors.Select(s => s.Worker.Path) ?? []), StringComparer.Ordinal);
        return _registered.Where(w => !inRun.Contains(w.Path)).ToList();
    }

    private void OnEvaluated(SnapshotEvaluated evaluated)
    {
        var run = _run;
        if (run is null)
        {
            return;
        }

        var e = evaluated.Evaluation;
        run.Output.AppendEvaluation(e.Epoch, e.Step, e.Values);
        for (var m = 0; m < e.Names.Count; m++)
        {
            DeepGenTelemetry.Evaluation.Record(e.Values[m], new KeyValuePair<string, object?>("metric", e.Names[m]), new KeyValuePair<string, object?>(DeepGenTelemetry.RunIdTag, run.RunId));
        }

        var summary = string.Join(", ", e.Names.Zip(e.Values, (name, value) => $"{name} {value:G6}"));
        _log.Info("Run {RunId}: evaluation at step {Step} (epoch {Epoch}): {Metrics}", run.RunId, e.Step, e.Epoch, summary);
        run.Observer.EpochEvaluated(e);
        if (e.EpochEnd)
        {
            run.LastEvaluation = e;
        }

        if (e.EpochEnd && e.Epoch == run.Config.Epochs)
        {
            run.FinalEvaluationDone = true;
            CompleteRunWhenReportsAreDone();
        }
    }


    private void OnCamReport(CamReportWritten report)
    {
        if (_run is not null && report.Step == _run.FinalStep)
        {
            _run.FinalCamReportDone = true;
        }

        if (report.Page is not null)
        {
            _log.Info("Run {RunId}: CAM report of step {Step} written to {Page}", _run?.RunId, report.Step, report.Page);
            _run?.Observer.Log($"CAM report: {report.Page}");
        }
        else
        {
            _log.Warning("Run {RunId}: CAM report of step {Step} failed: {Reason}", _run?.RunId, report.Step, report.Error);
            _run?.Observer.Log($"CAM report of step {report.Step} failed: {report.Error}");
        }

        if (_run is { FinalCamReportDone: true })
        {
            CompleteRunWhenReportsAreDone();
        }
    }

    /// <summary>Completes the run once the last evaluation and the last CAM report (when the model has one) are written.</summary>
    private void CompleteRunWhenReportsAreDone()
    {
        if (_run is { FinalEvaluationDone: true } run && (run.CamReporter is null || run.FinalCamReportDone))
        {
            CompleteRun();
        }
    }

    private void CompleteRun()
    {
        Timers.Cancel("final-evaluation");
        _trace.End();
        var run = _run!;
        run.Output.Dispose();
        run.Requester.Tell(new RunCompleted(run.RunId, run.Output.Directory, run.Committed.Step, run.LastEvaluation));
        Context.Stop(run.Evaluator);
        if (run.CamReporter is not null)
        {
            Context.Stop(run.CamReporter);
        }

        _run = null;
        Become(Idle);
    }

    private bool VerifyConsistency(IReadOnlyList<string> checksums, long step)
    {
        var decision = ReplicaConsistencyPolicy.Check(checksums, step);
        if (decision.Consistent)
        {
            _log.Info("Run {RunId}: {Reason}", _run!.RunId, decision.Reason);
            return true;
        }

        FailRun(decision.Reason);
        return false;
    }

    private void Register(RegisterWorker registration)
    {
        var path = Sender.Path.ToString();
        if (_registered.TrueForAll(w => w.Path != path))
        {
            _workerRefs[path] = Sender;
            _registered.Add(new RegisteredWorker(path, registration));
            Context.Watch(Sender);
            _log.Info("Worker {WorkerId} registered from {Host}, data plane {Endpoint}, device {Device}; {Count} registered",
                registration.WorkerId, registration.Host, registration.DataPlane, registration.Device, _registered.Count);
        }

        Sender.Tell(new WorkerAccepted(registration.WorkerId));
    }

    private void ForgetWorkersAt(Address address, string reason)
    {
        foreach (var path in _workerRefs.Where(kv => kv.Value.Path.Address == address).Select(kv => kv.Key).ToList())
        {
            ForgetWorker(path, reason);
        }
    }

    private void ForgetWorker(string path, string reason)
    {
        var index = _registered.FindIndex(w => w.Path == path);
        if (index < 0)
        {
            return;
        }

        _log.Info("Worker {WorkerId} removed because {Reason}", _registered[index].Registration.WorkerId, reason);
        _trace.AddEvent("worker_removed", ("deepgen.worker_id", _registered[index].Registration.WorkerId), ("deepgen.reason", reason));
        _registered.RemoveAt(index);
        if (_workerRefs.Remove(path, out var actor))
        {
            Context.Unwatch(actor);
        }
    }

    private void FailRun(string reason)
    {
        var run = _run!;
        _log.Error("Run {RunId} failed: {Reason}", run.RunId, reason);
        _trace.End(reason);

        // Steps that some rank finished before the failure was reported still go to metrics.csv.
        while (run.PendingSteps.TryGetValue(run.Committed.Step + 1, out var pending))
        {
            Commit(pending.Report);
        }

        LeaveAll($"run failed: {reason}");
        _regrouping = false;
        Timers.CancelAll();
        run.Output.Dispose();
        Context.Stop(run.Evaluator);
        if (run.CamReporter is not null)
        {
            Context.Stop(run.CamReporter);
        }

        run.Requester.Tell(new RunFailed(run.RunId, reason));
        _run = null;
        Become(Idle);
    }

    private void LeaveAll(string reason)
    {
        var run = _run!;
        foreach (var path in run.Members.Select(m => m.Path).Concat(run.Survivors.Select(s => s.Worker.Path)).Distinct())
        {
            if (_workerRefs.TryGetValue(path, out var actor))
            {
                actor.Tell(new LeaveRun(run.RunId, reason));
            }
        }
    }

    private bool IsCurrent(string runId) => _run is not null && _run.RunId == runId;

    private static ImageDataset Limit(ImageDataset data, int limit) => limit > 0 && limit < data.Count ? data.Slice(0, limit) : data;

    /// <summary>A step reported by some ranks of its generation; written once all have reported it.</summary>
    private sealed class PendingStep(StepCompleted report)
    {
        public StepCompleted Report { get; } = report;

        public HashSet<int> Ranks { get; } = [];
    }

    private sealed class RunState(
        string runId,
        Configuration.TrainingConfig config,
        RunOutput output,
        IRunObserver observer,
        IActorRef requester,
        IActorRef evaluator,
        IActorRef? camReporter,
        byte[] initialWeights,
        int stepsPerEpoch,
        TimeSpan workerWaitTimeout,
        int trainCount)
    {
        public string RunId { get; } = runId;
        public Configuration.TrainingConfig Config { get; } = config;
        public RunOutput Output { get; } = output;
        public IRunObserver Observer { get; } = observer;
        public IActorRef Requester { get; } = requester;
        public IActorRef Evaluator { get; } = evaluator;
        public IActorRef? CamReporter { get; } = camReporter;
        public byte[] InitialWeights { get; } = initialWeights;
        public byte[]? InitialOptimizerState { get; init; }
        public int StepsPerEpoch { get; } = stepsPerEpoch;
        public TimeSpan WorkerWaitTimeout { get; } = workerWaitTimeout;
        public int TrainCount { get; } = trainCount;
        public int Generation { get; set; }
        /// <summary>The ring of the current generation, index = rank.</summary>
        public IReadOnlyList<RegisteredWorker> Members { get; set; } = [];
        /// <summary>Paths of members lost since the generation formed.</summary>
        public HashSet<string> Lost { get; } = new(StringComparer.Ordinal);
        public IEnumerable<RegisteredWorker> AliveMembers => Members.Where(m => !Lost.Contains(m.Path));
        public int LastCompletedEpoch { get; set; }
        public bool StartGraceOver { get; set; }
        public int FailedFormations { get; set; }
        public TrainingPosition Committed { get; set; } = new(0, 1, 0);
        public TrainingPosition GenerationStart { get; set; } = new(0, 1, 0);
        public Dictionary<int, string> JoinChecksums { get; } = [];
        public Dictionary<long, PendingStep> PendingSteps { get; } = [];
        public Dictionary<string, RingStopped> StopReports { get; } = new(StringComparer.Ordinal);
        public IReadOnlyList<(RegisteredWorker Worker, RingStopped Report)> Survivors { get; set; } = [];
        public StateSnapshot? PendingSnapshot { get; set; }
        public Dictionary<long, Dictionary<int, string>> StepChecksums { get; } = [];
        public Dictionary<int, EpochCompleted> EpochReports { get; } = [];
        public byte[]? LastWeights { get; set; }
        public DateTime? LastCheckpoint { get; set; }
        public EpochEvaluation? LastEvaluation { get; set; }
        public long FinalStep { get; set; } = -1;
        public bool FinalEvaluationDone { get; set; }
        public bool FinalCamReportDone { get; set; }
    }

    private sealed class WorkerWaitTimedOut
    {
        public static readonly WorkerWaitTimedOut Instance = new();
    }

    private sealed class StartGraceOver
    {
        public static readonly StartGraceOver Instance = new();
    }

    private sealed class PauseTimedOut
    {
        public static readonly PauseTimedOut Instance = new();
    }

    private sealed class FinalEvaluationTimedOut
    {
        public static readonly FinalEvaluationTimedOut Instance = new();
    }

    private sealed record JoinTimedOut(int Generation);

    private sealed record RegroupTimedOut(int Generation);
}
