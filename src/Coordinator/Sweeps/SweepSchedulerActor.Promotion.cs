using Akka.Actor;
using Akka.Event;
using DeepGen.Distributed.Coordinator.Sweeps.Output;
using DeepGen.Distributed.Coordinator.Sweeps.Scheduling;

namespace DeepGen.Distributed.Coordinator.Sweeps;

/// <summary>
/// The promotion form of ASHA: pausing a trial at its next rung, promoting paused trials when a
/// slot frees, and stopping the trials still paused when the sweep ends.
/// </summary>
public sealed partial class SweepSchedulerActor
{
    /// <summary>Policy of the promotion form of ASHA; null for the other schedulers.</summary>
    private readonly AshaPromotionPolicy? _promotion;

    /// <summary>Paused trials whose workers are still stopping; they write to their run folders until then, so they are not resumed yet.</summary>
    private readonly HashSet<string> _pausing = new(StringComparer.Ordinal);

    private enum PromotionResult
    {
        /// <summary>No paused trial may be promoted now.</summary>
        None,

        /// <summary>A trial was promoted and launched, or failed because it needs more slots than remain.</summary>
        Handled,

        /// <summary>A trial may be promoted, but too few slots are free, or its workers are still stopping.</summary>
        WaitingForSlots,
    }

    /// <summary>
    /// Pauses a running trial that reached <paramref name="rung"/>: records its value there and
    /// cancels it. A promotion resumes it from the newest usable checkpoint in its run folder.
    /// </summary>
    /// <remarks>
    /// At an epoch end the trial's coordinator writes the checkpoint before it starts the evaluation,
    /// so the rung's checkpoint is on disk. NOTE: mid-epoch, the step checkpoint and the evaluation
    /// come from separate messages. The checkpoint is written once its step is in metrics.csv, which
    /// in practice is long before the evaluation of 2,000 images ends, but nothing enforces it. When
    /// it is missing, the resume starts from an earlier checkpoint and trains the steps to the rung again.
    /// </remarks>
    private void Pause(TrialRecord record, long rung, double value)
    {
        record.Rungs.Add(new RungResult(rung, value, Continued: false));
        var rank = _promotion!.Record(record.Id, rung, value);
        if (_running.Remove(record.Id, out var running))
        {
            var stopped = running.Execution.DisposeAsync().AsTask();
            _stopping.Add(stopped);
            _pausing.Add(record.Id);
            var id = record.Id;
            stopped.ContinueWith(_ => new PausedTrialStopped(id), TaskScheduler.Default).PipeTo(Self);
        }

        _slots.Release(record.Id);
        record.Status = TrialStatus.Paused;
        record.Slots = [];
        Decide($"{record.Id} paused at rung {rung} {_plan.Unit}: {rank}");
        Save();
        Fill();
    }

    private void OnPausedTrialStopped(PausedTrialStopped message)
    {
        _pausing.Remove(message.TrialId);
        Fill();
    }

    /// <summary>
    /// Resumes the paused trial that the policy promotes next, when its slots are free. A promotion
    /// goes before any new trial, so while the trial to promote is still stopping its workers, the
    /// free slots wait for it (<see cref="OnPausedTrialStopped"/> calls <see cref="Fill"/> again).
    /// </summary>
    private PromotionResult TryPromote()
    {
        if (_promotion?.FindPromotion(_ => true) is not { } promotion)
        {
            return PromotionResult.None;
        }

        if (_pausing.Contains(promotion.TrialId))
        {
            return PromotionResult.WaitingForSlots;
        }

        var record = Record(promotion.TrialId);
        var needed = _definitions[record.Id].Config.Workers;
        if (needed > _slots.Capacity)
        {
            _promotion.MarkPromoted(record.Id, promotion.Rung);
            End(record, TrialStatus.Failed, $"promoted from rung {promotion.Rung} {_plan.Unit}, but it needs {needed} workers and the sweep has {_slots.Capacity} worker slots left");
            return PromotionResult.Handled;
        }

        if (_slots.TryTake(record.Id, needed) is not { } slots)
        {
            return PromotionResult.WaitingForSlots;
        }

        _promotion.MarkPromoted(record.Id, promotion.Rung);
        var index = record.Rungs.FindIndex(r => r.Rung == promotion.Rung);
        record.Rungs[index] = record.Rungs[index] with { Continued = true };
        var target = promotion.Target is { } next ? $"rung {next} {_plan.Unit}" : "its last epoch";
        Decide($"{record.Id} promoted from rung {promotion.Rung} {_plan.Unit} to {target}: {promotion.Reason}");
        _resume.Add(record.Id);
        Launch(_definitions[record.Id], slots);
        return PromotionResult.Handled;
    }

    /// <summary>True while a paused trial may still be promoted: one is promotable now, or one is still stopping its workers.</summary>
    private bool PromotionPending() =>
        _promotion is not null && (_pausing.Count > 0 || _promotion.FindPromotion(_ => true) is not null);

    /// <summary>Ends the trials still paused: no trial is left to start or run, so none of them can be promoted any more.</summary>
    private void StopPausedTrials()
    {
        foreach (var record in _state.Trials.Where(t => t.Status == TrialStatus.Paused).ToList())
        {
            var rung = record.Rungs[^1].Rung;
            End(record, TrialStatus.Stopped, $"stopped at rung {rung} {_plan.Unit}: ASHA paused it there and did not promote it, because {_promotion!.Describe(record.Id, rung)}");
        }
    }

    /// <summary>Logs a warning when the rung ladder does not ensure that a trial reaches max_resource, so the sweep may end without a best trial.</summary>
    private void WarnWhenNoTrialCompletes(int trials)
    {
        if (_promotion is null || _promotion.CompletingTrials(trials) > 0)
        {
            return;
        }

        var message = $"{trials} trials are too few for {_rungs.Count} rungs with reduction factor {_plan.Spec.Scheduler.ReductionFactor}: each rung ensures only that ⌊n/η⌋ of its n trials are promoted, so possibly no trial reaches max_resource and the sweep has no best trial; raise grace_period to have fewer rungs, or run more trials";
        _log.Warning("Sweep {Directory}: {Warning}", _store.Directory, message);
        _store.Decide($"warning: {message}");
    }
}
