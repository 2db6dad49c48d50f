using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Coordinator.Sweeps.Scheduling;

/// <summary>Outcome of a trial reaching a rung.</summary>
/// <param name="Rung">Rung milestone in the scheduler's resource unit.</param>
/// <param name="Value">Objective metric recorded at the rung.</param>
/// <param name="Continue">True when the trial goes on to the next rung, false when it is stopped.</param>
/// <param name="Reason">The rank and cut that led to the decision, for the decisions log.</param>
public sealed record RungDecision(string TrialId, long Rung, double Value, bool Continue, string Reason);

/// <summary>Decides at rungs whether a trial continues. Pure: no clock, no I/O, no actor.</summary>
public interface ITrialStoppingPolicy
{
    /// <summary>Rung milestones, ascending; empty when no trial is ever stopped.</summary>
    IReadOnlyList<long> Rungs { get; }

    /// <summary>
    /// Records the objective <paramref name="value"/> of <paramref name="trialId"/> after
    /// <paramref name="resource"/> units, and decides at each rung that the trial reaches with it.
    /// Returns those decisions in rung order, ending at the first stop; empty when no new rung was reached
    /// or the trial was already stopped.
    /// </summary>
    IReadOnlyList<RungDecision> Report(string trialId, long resource, double value);

    /// <summary>Adds a value recorded at <paramref name="rung"/> before a restart, without deciding again.</summary>
    void Restore(string trialId, long rung, double value, bool continued);
}

/// <summary>Creates the stopping policy that a spec's scheduler section names.</summary>
public static class StoppingPolicies
{
    /// <summary>
    /// Returns <see cref="AshaPolicy"/> for <c>asha_stopping</c>, and <see cref="FifoPolicy"/> otherwise:
    /// the promotion form of ASHA never stops a running trial, because <see cref="AshaPromotionPolicy"/> pauses it.
    /// </summary>
    public static ITrialStoppingPolicy Create(SweepScheduler scheduler, SweepObjective objective) => scheduler.Kind switch
    {
        SchedulerKind.AshaStopping => new AshaPolicy(scheduler.Rungs(), scheduler.ReductionFactor, objective),
        _ => new FifoPolicy(),
    };
}

/// <summary>Never stops a trial: every trial runs to its last epoch.</summary>
public sealed class FifoPolicy : ITrialStoppingPolicy
{
    public IReadOnlyList<long> Rungs => [];

    public IReadOnlyList<RungDecision> Report(string trialId, long resource, double value) => [];

    public void Restore(string trialId, long rung, double value, bool continued)
    {
    }
}
