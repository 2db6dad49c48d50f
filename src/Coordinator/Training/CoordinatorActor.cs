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
/// idle → waiting for workers → joining (ring formation) → training (epoch by epoch) → finishing
/// (last evaluation) → idle. Any worker failure, lost member or replica divergence fails the run.
/// </summary>
public sealed class CoordinatorActor : ReceiveActor, IWithTimers
{
    /// <summary>How long the run waits for the last epoch's evaluation after training ends.</summary>
    private static readonly TimeSpan FinalEvaluationTimeout = TimeSpan.FromMinutes(10);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<RegisteredWorker> _registered = [];
    private readonly Dictionary<string, IActorRef> _workerRefs = new(StringComparer.Ordinal);
    private readonly RunTrace _trace = new();
    private RunState? _run;

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

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        _run?.Output.Dispose();
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
        Receive<WorkerWaitTimedOut>(_ => FailRun(
            $"only {_registered.Count} of {_run!.Config.Workers} workers registered within {_run.WorkerWaitTimeout.TotalSeconds:0} s; start more workers or lower --workers"));
        RunHandlers();
    }

    private void Joining()
    {
        Receive<RunJoined>(joined =>
        {
            if (!IsCurrent(joined.RunId))
            {
                return;
            }

            _run!.JoinChecksums[joined.Rank] = joined.ParameterChecksum;
            if (_run.JoinChecksums.Count < _run.Ranks.Count)
            {
                return;
            }

            Timers.Cancel("join-timeout");
            var checksums = Enumerable.Range(0, _run.Ranks.Count).Select(r => _run.JoinChecksums[r]).ToList();
            if (!VerifyConsistency(checksums, 0))
            {
                return;
            }

            _log.Info("Run {RunId}: ring of {WorldSize} formed and initial weights identical on every rank", _run.RunId, _run.Ranks.Count);
            StartEpoch(1);
        });
        Receive<JoinTimedOut>(_ =>
        {
            var missing = Enumerable.Range(0, _run!.Ranks.Count).Where(r => !_run.JoinChecksums.ContainsKey(r)).Select(r => $"rank {r} ({_run.Ranks[r].Registration.WorkerId})");
            FailRun($"ranks did not form the ring in time: {string.Join(", ", missing)} never reported; check that workers can reach each other's data-plane endpoints");
        });
        RunHandlers();
    }

    private void TrainingEpochs()
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
        RunHandlers();
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
        Receive<CamReportWritten>(OnCamReport);
        Receive<SnapshotEvaluated>(OnEvaluated);
        Receive<SnapshotEvaluationFailed>(failed =>
        {
            _log.Warning("Run {RunId}: evaluation of epoch {Epoch} failed: {Reason}", _run?.RunId, failed.Epoch, failed.Reason);
            _run?.Observer.Log($"evaluation of epoch {failed.Epoch} failed: {failed.Reason}");
            if (failed.EpochEnd && failed.Epoch == _run?.Config.Epochs)
            {
                _run.FinalEvaluationDone = true;
                CompleteRunWhenReportsAreDone();
            }
        });
        CommonHandlers();
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
        Receive<WorkerFailed>(failed => _log.Warning("Worker of rank {Rank} in finished run {RunId} reported: {Reason}", failed.Rank, failed.RunId, failed.Reason));
        Receive<StartRun>(start => Sender.Tell(new RunFailed("", $"a run is already in progress ({_run?.RunId}); wait for it to finish")));
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
        Receive<ClusterEvent.UnreachableMember>(unreachable => LoseMember(unreachable.Member.Address, "became unreachable (no heartbeat within the failure detector's pause)"));
        Receive<ClusterEvent.MemberRemoved>(removed => LoseMember(removed.Member.Address, "left the cluster"));
        Receive<Terminated>(terminated =>
        {
            var path = terminated.ActorRef.Path.ToString();
            var rank = RankOf(path);
            ForgetWorker(path, "its actor stopped");
            if (rank >= 0)
            {
                FailRun($"rank {rank} stopped (its actor system terminated)");
            }
        });
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
        Receive<StartRun>(start => Sender.Tell(new RunFailed("", $"a run is already in progress ({_run?.RunId}); wait for it to finish")));
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

            output = RunOutput.Create(start.RunDirectory, start.Config);
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
        var initialWeights = ReplicaFactory.InitialWeights(start.Config, train.Rows, train.Columns);
        var evaluator = Context.ActorOf(EvaluationActor.Props(start.Config, test, train, output), $"evaluation-{runId}");
        var camReporter = CamReporterActor.Supports(start.Config)
            ? Context.ActorOf(CamReporterActor.Props(start.Config, test, (float)train.MeanPixelValue(), output), $"cam-{runId}")
            : null;
        _run = new RunState(runId, start.Config, output, start.Observer, Sender, evaluator, camReporter, initialWeights, sampler.StepsPerEpoch(start.Config.BatchSizePerWorker), start.WorkerWaitTimeout);
        _log.Info("Run {RunId} accepted: {Workers} workers × batch {Batch}, {Epochs} epochs of {Steps} steps on {Images} images",
            runId, start.Config.Workers, start.Config.BatchSizePerWorker, start.Config.Epochs, _run.StepsPerEpoch, train.Count);
        _log.Info("Run {RunId} writes to {Directory}", runId, output.Directory);
        _trace.StartRun(runId, start.Config.Model, start.Config.Workers);
        start.Observer.RunStarted(runId, start.Config, _run.StepsPerEpoch);
        Become(WaitingForWorkers);
        Timers.StartSingleTimer("worker-wait", WorkerWaitTimedOut.Instance, start.WorkerWaitTimeout);
        TryAssignRanks();
    }

    private void TryAssignRanks()
    {
        var decision = RankAssignmentPolicy.Assign(_registered, _run!.Config.Workers);
        if (!decision.Ready)
        {
            _log.Info("Run {RunId}: {Reason}", _run.RunId, decision.Reason);
            _run.Observer.Log(decision.Reason);
            return;
        }

        Timers.Cancel("worker-wait");
        _run.Ranks = decision.Ranks;
        _log.Info("Run {RunId}: ranks assigned: {Reason}", _run.RunId, decision.Reason);
        _run.Observer.RanksAssigned(decision.Ranks.Select((w, rank) => new RankedWorker(rank, w.Registration.WorkerId, w.Registration.Host)).ToList());
        _trace.AddEvent("ranks_assigned", ("deepgen.workers", string.Join(",", decision.Ranks.Select(w => w.Registration.WorkerId))));

        var initialWeights = _run.InitialWeights;
        var secret = RandomNumberGenerator.GetBytes(32);
        var peers = decision.Ranks.Select(w => w.Registration.DataPlane).ToList();
        var traceParent = _trace.RunTraceParent;
        for (var rank = 0; rank < decision.Ranks.Count; rank++)
        {
            _workerRefs[decision.Ranks[rank].Path].Tell(new JoinRun(_run.RunId, rank, _run.Config, peers, secret, initialWeights, traceParent));
        }

        Become(Joining);
        Timers.StartSingleTimer("join-timeout", JoinTimedOut.Instance, TimeSpan.FromSeconds(_run.Config.CollectiveTimeoutSeconds + 60));
    }

    private void StartEpoch(int epoch)
    {
        var run = _run!;
        run.Epoch = epoch;
        run.EpochReports.Clear();
        var firstStep = (long)(epoch - 1) * run.StepsPerEpoch + 1;
        _log.Info("Run {RunId}: starting epoch {Epoch}/{Epochs} at step {Step}", run.RunId, epoch, run.Config.Epochs, firstStep);
        var traceParent = _trace.StartEpoch(epoch, firstStep);
        foreach (var worker in run.Ranks)
        {
            _workerRefs[worker.Path].Tell(new TrainEpoch(run.RunId, epoch, firstStep, traceParent));
        }

        Become(TrainingEpochs);
    }

    private void OnStep(StepCompleted step)
    {
        if (!IsCurrent(step.RunId))
        {
            return;
        }

        var run = _run!;
        run.Observer.RankStepCompleted(step);
        if (step.Rank != 0)
        {
            _log.Debug("Run {RunId}: rank {Rank} finished step {Step} in {Seconds:F4} s", run.RunId, step.Rank, step.Step, step.StepSeconds);
            return;
        }

        if (step.Step != run.LastStep + 1)
        {
            FailRun($"rank 0 reported step {step.Step} after step {run.LastStep}; a step was lost or repeated");
            return;
        }

        run.LastStep = step.Step;
        var samplesPerSecond = step.StepSeconds > 0 ? step.Samples / step.StepSeconds : 0;
        run.Output.AppendStep(step.Step, step.Epoch, step.Loss, step.Terms, samplesPerSecond, step.StepSeconds, step.AllReduceSeconds);
        var runTag = new KeyValuePair<string, object?>(DeepGenTelemetry.RunIdTag, run.RunId);
        DeepGenTelemetry.Loss.Record(step.Loss, new KeyValuePair<string, object?>("term", "loss"), runTag);
        for (var t = 0; t < step.Terms.Count && t < run.Config.Family.StepTerms.Count; t++)
        {
            DeepGenTelemetry.Loss.Record(step.Terms[t], new KeyValuePair<string, object?>("term", run.Config.Family.StepTerms[t]), runTag);
        }
        DeepGenTelemetry.Throughput.Record(samplesPerSecond, runTag);
        run.Observer.StepCompleted(step, samplesPerSecond);
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
        if (byRank.Count == run.Ranks.Count)
        {
            run.StepChecksums.Remove(report.Step);
            VerifyConsistency(Enumerable.Range(0, run.Ranks.Count).Select(r => byRank[r]).ToList(), report.Step);
        }
    }

    private void OnEpochCompleted(EpochCompleted report)
    {
        if (!IsCurrent(report.RunId) || report.Epoch != _run!.Epoch)
        {
            return;
        }

        var run = _run;
        run.EpochReports[report.Rank] = report;
        if (run.EpochReports.Count < run.Ranks.Count)
        {
            return;
        }

        var checksums = Enumerable.Range(0, run.Ranks.Count).Select(r => run.EpochReports[r].Checksum).ToList();
        if (!VerifyConsistency(checksums, report.LastStep))
        {
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
        var epochCheckpoint = run.Output.WriteCheckpoint($"epoch-{report.Epoch:000}.ckpt", run.Config, report.Epoch, report.LastStep, weights);
        _log.Info("Run {RunId}: checkpoint {Path} written after epoch {Epoch}", run.RunId, epochCheckpoint, report.Epoch);
        run.Observer.CheckpointWritten(epochCheckpoint, report.Epoch, report.LastStep);
        _trace.AddEvent("checkpoint_written", ("deepgen.path", epochCheckpoint), ("deepgen.step", report.LastStep));
        run.Evaluator.Tell(new EvaluateSnapshot(report.Epoch, report.LastStep, weights, EpochEnd: true));
        run.CamReporter?.Tell(new ReportCam(report.Epoch, report.LastStep, weights));
        if (report.Epoch < run.Config.Epochs)
        {
            StartEpoch(report.Epoch + 1);
            return;
        }

        run.FinalStep = report.LastStep;
        var checkpoint = run.Output.WriteCheckpoint("final.ckpt", run.Config, report.Epoch, report.LastStep, weights);
        _log.Info("Run {RunId}: all {Epochs} epochs trained ({Steps} steps); final checkpoint {Path}; waiting for the last evaluation", run.RunId, run.Config.Epochs, report.LastStep, checkpoint);
        run.Observer.Log($"checkpoint written: {checkpoint}");
        run.Observer.CheckpointWritten(checkpoint, report.Epoch, report.LastStep);
        LeaveAll("training finished");
        Become(Finishing);
        Timers.StartSingleTimer("final-evaluation", FinalEvaluationTimedOut.Instance, FinalEvaluationTimeout);
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
        run.Requester.Tell(new RunCompleted(run.RunId, run.Output.Directory, run.LastStep, run.LastEvaluation));
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

    private void LoseMember(Address address, string description)
    {
        var ranks = _run?.Ranks.Select((w, rank) => (w, rank)).Where(x => _workerRefs[x.w.Path].Path.Address == address).Select(x => x.rank).ToList() ?? [];
        ForgetWorkersAt(address, description);
        if (ranks.Count > 0)
        {
            FailRun($"rank {string.Join(", ", ranks)} at {address} {description}");
        }
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
        LeaveAll($"run failed: {reason}");
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
        foreach (var worker in _run!.Ranks)
        {
            if (_workerRefs.TryGetValue(worker.Path, out var actor))
            {
                actor.Tell(new LeaveRun(_run.RunId, reason));
            }
        }
    }

    private int RankOf(string path) => _run is null ? -1 : _run.Ranks.ToList().FindIndex(w => w.Path == path);

    private bool IsCurrent(string runId) => _run is not null && _run.RunId == runId;

    private static ImageDataset Limit(ImageDataset data, int limit) => limit > 0 && limit < data.Count ? data.Slice(0, limit) : data;

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
        TimeSpan workerWaitTimeout)
    {
        public string RunId { get; } = runId;
        public Configuration.TrainingConfig Config { get; } = config;
        public RunOutput Output { get; } = output;
        public IRunObserver Observer { get; } = observer;
        public IActorRef Requester { get; } = requester;
        public IActorRef Evaluator { get; } = evaluator;
        public IActorRef? CamReporter { get; } = camReporter;
        public byte[] InitialWeights { get; } = initialWeights;
        public int StepsPerEpoch { get; } = stepsPerEpoch;
        public TimeSpan WorkerWaitTimeout { get; } = workerWaitTimeout;
        public IReadOnlyList<RegisteredWorker> Ranks { get; set; } = [];
        public Dictionary<int, string> JoinChecksums { get; } = [];
        public Dictionary<long, Dictionary<int, string>> StepChecksums { get; } = [];
        public Dictionary<int, EpochCompleted> EpochReports { get; } = [];
        public int Epoch { get; set; }
        public long LastStep { get; set; }
        public byte[]? LastWeights { get; set; }
        public EpochEvaluation? LastEvaluation { get; set; }
        public long FinalStep { get; set; } = -1;
        public bool FinalEvaluationDone { get; set; }
        public bool FinalCamReportDone { get; set; }
    }

    private sealed class WorkerWaitTimedOut
    {
        public static readonly WorkerWaitTimedOut Instance = new();
    }

    private sealed class FinalEvaluationTimedOut
    {
        public static readonly FinalEvaluationTimedOut Instance = new();
    }

    private sealed class JoinTimedOut
    {
        public static readonly JoinTimedOut Instance = new();
    }
}
