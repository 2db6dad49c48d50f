using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Event;
using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Coordinator.Sweeps.Output;
using DeepGen.Distributed.Coordinator.Sweeps.Scheduling;
using DeepGen.Distributed.Coordinator.Sweeps.Search;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Sweeps;

/// <summary>
/// Schedules the trials of one sweep on a pool of worker slots. States: ready (state loaded,
/// waiting for <see cref="RunSweep"/>) → scheduling (trials start as slots free up; ASHA pauses and
/// promotes them at rungs, or in its stopping form cuts them there) → draining (cancelled trials
/// release their workers) → finished.
/// </summary>
/// <remarks>
/// Every decision (start, resume, rung verdict, stop, failure, new best) is appended to
/// <c>decisions.log</c> and logged at Info with its reason, and the state file is saved after it.
/// Trials start in their id order; a trial that needs more workers than are free waits, and the
/// ones behind it wait too.
/// </remarks>
public sealed partial class SweepSchedulerActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SweepPlan _plan;
    private readonly SweepStore _store;
    private readonly ITrialRunner _runner;
    private readonly SlotPool _slots;
    private readonly ITrialStoppingPolicy _policy;
    private readonly IReadOnlyList<long> _rungs;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<string, TrialDefinition> _definitions;
    private readonly Queue<string> _queue = new();
    private readonly HashSet<string> _resume = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ITrialExecution Execution, int Attempt)> _running = new(StringComparer.Ordinal);
    private readonly List<Task> _stopping = [];
    private SweepState _state = null!;
    private double _elapsedBefore;
    private SweepState? _saved;
    private IActorRef _requester = ActorRefs.Nobody;

    /// <param name="saved">State of an earlier run of this sweep to resume, or null for a new sweep; <see cref="SweepHost.CheckState"/> has checked it against the plan.</param>
    public SweepSchedulerActor(SweepPlan plan, SweepStore store, ITrialRunner runner, int slots, SweepState? saved)
    {
        _saved = saved;
        _plan = plan;
        _store = store;
        _runner = runner;
        _slots = new SlotPool(slots);
        _policy = StoppingPolicies.Create(plan.Spec.Scheduler, plan.Spec.Objective);
        _rungs = plan.Spec.Scheduler.Rungs();
        if (plan.Spec.Scheduler.Kind == SchedulerKind.Asha)
        {
            _promotion = new AshaPromotionPolicy(_rungs, plan.Spec.Scheduler.ReductionFactor, plan.Spec.Objective);
        }

        _definitions = plan.Trials.ToDictionary(t => t.Id, StringComparer.Ordinal);
        Ready();
    }

    /// <summary>Props of the scheduler for <paramref name="plan"/> with <paramref name="slots"/> worker slots.</summary>
    public static Props Props(SweepPlan plan, SweepStore store, ITrialRunner runner, int slots, SweepState? saved) =>
        Akka.Actor.Props.Create(() => new SweepSchedulerActor(plan, store, runner, slots, saved));

    protected override void PreStart()
    {
        _elapsedBefore = _saved?.ElapsedSeconds ?? 0;
        _state = _saved is null ? Fresh() : Restore(_saved);
        _saved = null;
        Save();
    }

    /// <summary>
    /// Cancels the trials still running without recording it: when the coordinator stops mid-sweep,
    /// the state file keeps them as running, and a resume continues them.
    /// </summary>
    protected override void PostStop()
    {
        foreach (var (execution, _) in _running.Values)
        {
            _ = execution.DisposeAsync().AsTask();
        }
    }

    private void Ready()
    {
        Receive<RunSweep>(_ =>
        {
            _requester = Sender;
            Become(Scheduling);
            Fill();
        });
        Receive<WorkerSlotLost>(LoseSlot);
    }

    private void Scheduling()
    {
        Receive<TrialEvaluated>(OnEvaluated);
        Receive<TrialNoted>(noted => Decide($"{noted.TrialId} {noted.Decision}"));
        Receive<TrialEnded>(OnEnded);
        Receive<PausedTrialStopped>(OnPausedTrialStopped);
        Receive<WorkerSlotLost>(LoseSlot);
        Receive<RunSweep>(_ => Sender.Tell(new Status.Failure(new InvalidOperationException("the sweep is already running"))));
    }

    private void Draining()
    {
        Receive<CancelledTrialsStopped>(_ =>
        {
            _requester.Tell(new SweepFinished(SweepResults.From(_state, _rungs)));
            Become(Finished);
        });
        Receive<TrialEvaluated>(_ => { });
        Receive<TrialNoted>(_ => { });
        Receive<TrialEnded>(_ => { });
        Receive<PausedTrialStopped>(_ => { });
        Receive<WorkerSlotLost>(_ => { });
    }

    private void Finished()
    {
        Receive<RunSweep>(_ => Sender.Tell(new SweepFinished(SweepResults.From(_state, _rungs))));
        Receive<TrialEvaluated>(_ => { });
        Receive<TrialNoted>(_ => { });
        Receive<TrialEnded>(_ => { });
        Receive<PausedTrialStopped>(_ => { });
        Receive<WorkerSlotLost>(_ => { });
    }

    private SweepState Fresh()
    {
        var state = new SweepState
        {
            Metric = _plan.Spec.Objective.Metric,
            Mode = _plan.Spec.Objective.Mode.ToString().ToLowerInvariant(),
            Scheduler = _plan.Spec.Scheduler.Name,
            Slots = _slots.Capacity,
            Trials = [.. _plan.Trials.Select(t => new TrialRecord { Id = t.Id, Parameters = t.Parameters, RunDirectory = Path.Combine("trials", t.Id) })],
        };
        foreach (var trial in state.Trials)
        {
            _queue.Enqueue(trial.Id);
        }

        Decide($"sweep of {state.Trials.Count} trials on {_slots.Capacity} worker slots; {state.Scheduler} scheduler, rungs at [{string.Join(", ", _rungs)}] {_plan.Unit}; objective {state.Mode} {state.Metric}");
        WarnWhenNoTrialCompletes(state.Trials.Count);
        return state;
    }

    private SweepState Restore(SweepState saved)
    {
        foreach (var trial in saved.Trials)
        {
            foreach (var rung in trial.Rungs)
            {
                _policy.Restore(trial.Id, rung.Rung, rung.Value, rung.Continued);
                _promotion?.Restore(trial.Id, rung.Rung, rung.Value, rung.Continued);
            }
        }

        // Interrupted trials go first, so they get their slots back before new trials start.
        foreach (var trial in saved.Trials.Where(t => t.Status == TrialStatus.Running))
        {
            _queue.Enqueue(trial.Id);
            _resume.Add(trial.Id);
        }

        foreach (var trial in saved.Trials.Where(t => t.Status == TrialStatus.Pending))
        {
            _queue.Enqueue(trial.Id);
        }

        saved.Finished = false;
        saved.Slots = _slots.Capacity;
        var kept = saved.Trials.Count(t => t.Status is TrialStatus.Completed or TrialStatus.Stopped or TrialStatus.Failed);
        var paused = saved.Trials.Count(t => t.Status == TrialStatus.Paused);
        Decide($"sweep resumed after {saved.ElapsedSeconds:F1} s on {_slots.Capacity} worker slots: {kept} finished trials kept, {paused} paused at rungs, {_resume.Count} interrupted trials resume from their run folders, {_queue.Count - _resume.Count} not started");
        return saved;
    }

    /// <summary>
    /// Promotes paused trials, then starts queued trials, while slots are free and the concurrency
    /// limit allows; finishes the sweep when nothing is left.
    /// </summary>
    private void Fill()
    {
        while (_running.Count < _plan.MaxConcurrentTrials)
        {
            var promotion = TryPromote();
            if (promotion == PromotionResult.Handled)
            {
                continue;
            }

            if (promotion == PromotionResult.WaitingForSlots || _queue.Count == 0)
            {
                break;
            }

            var id = _queue.Peek();
            var needed = _definitions[id].Config.Workers;
            if (needed > _slots.Capacity)
            {
                _queue.Dequeue();
                End(Record(id), TrialStatus.Failed, $"needs {needed} workers, but the sweep has {_slots.Capacity} worker slots left");
                continue;
            }

            if (_slots.TryTake(id, needed) is not { } slots)
            {
                break;
            }

            _queue.Dequeue();
            Launch(_definitions[id], slots);
        }

        if (_queue.Count == 0 && _running.Count == 0 && !PromotionPending())
        {
            StopPausedTrials();
            Finish();
        }
    }

    private void Launch(TrialDefinition trial, IReadOnlyList<int> slots)
    {
        var record = Record(trial.Id);
        var resume = _resume.Remove(trial.Id);
        record.Status = TrialStatus.Running;
        record.Slots = [.. slots];
        record.Attempts++;
        record.StartedSeconds ??= Now();
        var attempt = record.Attempts;
        var self = Self;
        var launch = new TrialLaunch(
            trial.Id,
            trial.Config,
            Path.Combine(_store.Directory, record.RunDirectory),
            slots,
            e => self.Tell(new TrialEvaluated(trial.Id, attempt, e)),
            decision => self.Tell(new TrialNoted(trial.Id, attempt, decision)));
        var execution = resume ? _runner.Resume(launch) : _runner.Start(launch);
        _running[trial.Id] = (execution, attempt);
        execution.Completion.PipeTo(self, success: outcome => new TrialEnded(trial.Id, attempt, outcome), failure: error => new TrialEnded(trial.Id, attempt, TrialOutcome.Failed($"runner failed: {error.Message}")));

        var parameters = string.Join(", ", trial.Parameters.Select(p => $"{p.Key}={p.Value}"));
        Decide($"{trial.Id} {(resume ? "resumed" : "started")} on slots [{string.Join(", ", slots)}] with {parameters}; {_running.Count} running, {_slots.FreeCount} slots free");
        Save();
    }

    private void OnEvaluated(TrialEvaluated message)
    {
        if (!IsCurrent(message.TrialId, message.Attempt))
        {
            return;
        }

        var record = Record(message.TrialId);
        var evaluation = message.Evaluation;
        var index = evaluation.Names.ToList().IndexOf(_plan.Spec.Objective.Metric);
        if (index < 0)
        {
            Stop(record, TrialStatus.Failed, $"its evaluation reports no {_plan.Spec.Objective.Metric}");
            return;
        }

        var value = evaluation.Values[index];
        if (!double.IsFinite(value))
        {
            Stop(record, TrialStatus.Failed, string.Create(CultureInfo.InvariantCulture, $"{_plan.Spec.Objective.Metric} is {value} at step {evaluation.Step}"));
            return;
        }

        RecordPoint(record, evaluation, value);
        // Epoch rungs count only epoch-end evaluations; a mid-epoch snapshot reports resource 0.
        long resource = evaluation.Step;
        if (_plan.Spec.Scheduler.Unit == ResourceUnit.Epochs)
        {
            resource = evaluation.EpochEnd ? evaluation.Epoch : 0;
        }

        if (_promotion?.PauseRung(record.Rungs.Count) is { } rung && resource >= rung)
        {
            Pause(record, rung, value);
            return;
        }

        foreach (var decision in resource > 0 ? _policy.Report(record.Id, resource, value) : [])
        {
            record.Rungs.Add(new RungResult(decision.Rung, decision.Value, decision.Continue));
            if (decision.Continue)
            {
                Decide($"{record.Id} passes rung {decision.Rung} {_plan.Unit}: {decision.Reason}");
            }
            else
            {
                Stop(record, TrialStatus.Stopped, $"ASHA stopped it at rung {decision.Rung} {_plan.Unit}: {decision.Reason}");
                return;
            }
        }

        Save();
    }

    /// <summary>
    /// Adds an evaluation to the trial's curve, in step order. A resumed trial reports evaluations
    /// that the curve may already hold: the ones up to its checkpoint again, and the ones after it
    /// once it trains those steps again. A point at the same step with the same value is kept as it
    /// is; one with another value is replaced. Rungs are never decided twice, because the policy's
    /// state has passed them.
    /// </summary>
    private void RecordPoint(TrialRecord record, EpochEvaluation evaluation, double value)
    {
        var index = record.Curve.FindIndex(p => p.Step == evaluation.Step);
        if (index >= 0)
        {
            if (record.Curve[index].Value != value)
            {
                record.Curve[index] = new MetricPoint(Now(), evaluation.Epoch, evaluation.Step, value);
            }

            return;
        }

        var after = record.Curve.FindIndex(p => p.Step > evaluation.Step);
        record.Curve.Insert(after < 0 ? record.Curve.Count : after, new MetricPoint(Now(), evaluation.Epoch, evaluation.Step, value));
    }

    private void OnEnded(TrialEnded message)
    {
        if (!IsCurrent(message.TrialId, message.Attempt))
        {
            return;
        }

        var record = Record(message.TrialId);
        var (execution, _) = _running[record.Id];
        _running.Remove(record.Id);
        _slots.Release(record.Id);
        _stopping.Add(execution.DisposeAsync().AsTask());
        if (!message.Outcome.Completed)
        {
            End(record, TrialStatus.Failed, message.Outcome.FailureReason!);
            Fill();
            return;
        }

        record.FinalMetric = FinalMetric(record, message.Outcome.FinalEvaluation);
        End(record, TrialStatus.Completed, record.FinalMetric is null ? "finished without a final evaluation, so it is not ranked" : null);
        Fill();
    }

    private void LoseSlot(WorkerSlotLost lost)
    {
        var holder = _slots.Remove(lost.Slot);
        _state.Slots = _slots.Capacity;
        Decide($"worker slot {lost.Slot} lost ({lost.Reason}); capacity is now {_slots.Capacity} slots");
        if (holder is not null && _running.ContainsKey(holder))
        {
            var needed = _definitions[holder].Config.Workers;
            Stop(Record(holder), TrialStatus.Failed, $"worker slot {lost.Slot} was lost ({lost.Reason}); the trial needs {needed} workers and {needed - 1} remain");
            return;
        }

        Save();
        if (_requester != ActorRefs.Nobody)
        {
            Fill();
        }
    }

    /// <summary>Cancels a running trial: its slots are free at once, and its workers stop in the background.</summary>
    private void Stop(TrialRecord record, TrialStatus status, string reason)
    {
        if (_running.Remove(record.Id, out var running))
        {
            _stopping.Add(running.Execution.DisposeAsync().AsTask());
        }

        _slots.Release(record.Id);
        End(record, status, reason);
        Fill();
    }

    private void End(TrialRecord record, TrialStatus status, string? reason)
    {
        record.Status = status;
        record.Reason = reason;
        record.FinishedSeconds = Now();
        if (status == TrialStatus.Completed && record.FinalMetric is { } metric)
        {
            var best = _state.Trials.FirstOrDefault(t => t.Id == _state.BestTrialId);
            var isBest = best?.FinalMetric is not { } bestMetric || _plan.Spec.Objective.IsBetter(metric, bestMetric);
            if (isBest)
            {
                _state.BestTrialId = record.Id;
            }

            Decide(string.Create(CultureInfo.InvariantCulture, $"{record.Id} completed with {_state.Metric} {metric:G6}; best is {_state.BestTrialId}"));
        }
        else
        {
            Decide($"{record.Id} {status.ToString().ToLowerInvariant()}{(reason is null ? "" : $": {reason}")}");
        }

        Save();
    }

    private void Finish()
    {
        _state.Finished = true;
        Save();
        var counts = string.Join(", ", _state.Trials.GroupBy(t => t.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
        var best = _state.Trials.FirstOrDefault(t => t.Id == _state.BestTrialId);
        Decide(string.Create(CultureInfo.InvariantCulture, $"sweep finished in {_state.ElapsedSeconds:F1} s: {counts}; best {(best is null ? "none" : $"{best.Id} with {_state.Metric} {best.FinalMetric:G6}")}"));
        Save();
        Become(Draining);
        Task.WhenAll(_stopping).ContinueWith(_ => CancelledTrialsStopped.Instance, TaskScheduler.Default).PipeTo(Self);
    }

    /// <summary>The final epoch's metric, from the runner's outcome or else from the trial's last epoch-end evaluation.</summary>
    private double? FinalMetric(TrialRecord record, EpochEvaluation? final)
    {
        var epochs = _definitions[record.Id].Config.Epochs;
        if (final is { } evaluation && evaluation.Epoch == epochs && evaluation.Names.Contains(_state.Metric))
        {
            var value = evaluation[_state.Metric];
            return double.IsFinite(value) ? value : null;
        }

        return record.Curve.LastOrDefault(p => p.Epoch == epochs)?.Value;
    }

    private bool IsCurrent(string trialId, int attempt) => _running.TryGetValue(trialId, out var running) && running.Attempt == attempt;

    private TrialRecord Record(string id) => _state.Trials.First(t => t.Id == id);

    private double Now() => _elapsedBefore + _clock.Elapsed.TotalSeconds;

    /// <summary>Saves the state file and the result tables, with the elapsed time so far.</summary>
    private void Save()
    {
        _state.ElapsedSeconds = Now();
        _store.Save(_state, _rungs);
    }

    private void Decide(string decision)
    {
        _log.Info("Sweep {Directory}: {Decision}", _store.Directory, decision);
        _store.Decide(decision);
    }
}
