using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Coordinator.Sweeps.Output;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Sweeps;

// Local to the coordinator's process: none of these crosses an actor-system boundary.

/// <summary>Run the sweep to its end; the sender receives <see cref="SweepFinished"/>.</summary>
public sealed class RunSweep
{
    public static readonly RunSweep Instance = new();
}

/// <summary>Every trial is completed, stopped or failed, and every cancelled trial has released its workers.</summary>
public sealed record SweepFinished(SweepResults Results);

/// <summary>
/// A worker slot is gone for good, so the sweep shrinks its capacity. The trial that held the slot
/// fails, because a data-parallel trial keeps its world size. The other trials go on.
/// </summary>
public sealed record WorkerSlotLost(int Slot, string Reason);

/// <summary>A trial's evaluation arrived from its runner.</summary>
/// <param name="Attempt">Start count of the trial when it was launched; reports of an older attempt are dropped.</param>
internal sealed record TrialEvaluated(string TrialId, int Attempt, EpochEvaluation Evaluation);

/// <summary>A trial's runner took a decision on its own, such as the checkpoint a resume starts from.</summary>
/// <param name="Decision">Text that follows the trial id in the decisions log.</param>
internal sealed record TrialNoted(string TrialId, int Attempt, string Decision);

/// <summary>A trial's runner finished it by itself.</summary>
internal sealed record TrialEnded(string TrialId, int Attempt, TrialOutcome Outcome);

/// <summary>A trial paused at a rung has stopped its workers, so it may be resumed from its run folder.</summary>
internal sealed record PausedTrialStopped(string TrialId);

/// <summary>Every cancelled trial has stopped its workers.</summary>
internal sealed class CancelledTrialsStopped
{
    public static readonly CancelledTrialsStopped Instance = new();
}
