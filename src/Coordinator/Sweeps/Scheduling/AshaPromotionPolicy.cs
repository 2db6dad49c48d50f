using System.Globalization;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Coordinator.Sweeps.Scheduling;

/// <summary>A paused trial chosen to train on from its rung.</summary>
/// <param name="Rung">Rung the trial is paused at, in the scheduler's resource unit.</param>
/// <param name="Target">Rung at which the trial pauses next, or null when it trains to max_resource and completes.</param>
/// <param name="Reason">The rank and cut that allow the promotion, for the decisions log.</param>
public sealed record Promotion(string TrialId, long Rung, long? Target, double Value, string Reason);

/// <summary>
/// Asynchronous successive halving (ASHA; Li et al., "A System for Massively Parallel Hyperparameter
/// Tuning", MLSys 2020, Algorithm 2) in its promotion form. Every trial trains to the lowest rung and
/// pauses there. When a worker slot frees, the scheduler calls <see cref="FindPromotion"/> first: from
/// the top rung down, a paused trial that ranks among the best ⌊n_k/η⌋ of the n_k trials recorded at
/// rung k, and that was not promoted from it yet, resumes up to rung k+1 (or to max_resource from the
/// top rung). Only when there is none does a new trial start. Pure: no clock, no I/O, no actor.
/// </summary>
/// <remarks>
/// Unlike the stopping form (<see cref="AshaPolicy"/>), a decision does not depend on the order in
/// which trials reach a rung, because a paused trial can still be promoted when later trials rank
/// below it. Ties rank the trial recorded first higher. A rung can promote more than ⌊n_k/η⌋ trials
/// in all, because a trial promoted while n_k was small may drop out of the cut later. Once no trial
/// is left to start, every trial in the cut of each rung has been promoted, so at least
/// <see cref="CompletingTrials"/> trials complete; with too many rungs for the number of trials that
/// bound is 0.
/// </remarks>
public sealed class AshaPromotionPolicy
{
    private readonly int _reductionFactor;
    private readonly SweepObjective _objective;
    private readonly Dictionary<long, List<(string TrialId, double Value)>> _recorded = [];
    private readonly Dictionary<long, HashSet<string>> _promoted = [];

    /// <param name="rungs">Ascending rung milestones, all below max_resource.</param>
    /// <param name="reductionFactor">η ≥ 2.</param>
    public AshaPromotionPolicy(IReadOnlyList<long> rungs, int reductionFactor, SweepObjective objective)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(reductionFactor, 2);
        Rungs = rungs;
        _reductionFactor = reductionFactor;
        _objective = objective;
        foreach (var rung in rungs)
        {
            _recorded[rung] = [];
            _promoted[rung] = new HashSet<string>(StringComparer.Ordinal);
        }
    }

    public IReadOnlyList<long> Rungs { get; }

    /// <summary>
    /// Returns the rung at which a trial that has recorded <paramref name="rungsReached"/> rungs pauses
    /// next, or null when it trains to max_resource.
    /// </summary>
    public long? PauseRung(int rungsReached) => rungsReached < Rungs.Count ? Rungs[rungsReached] : null;

    /// <summary>
    /// Returns how many of <paramref name="trials"/> trials complete at least, when none fails: each
    /// rung promotes at least ⌊n/η⌋ of the n trials that reach it by the end of the sweep.
    /// </summary>
    public int CompletingTrials(int trials)
    {
        var count = trials;
        foreach (var _ in Rungs)
        {
            count /= _reductionFactor;
        }

        return count;
    }

    /// <summary>Records the objective <paramref name="value"/> of a trial that pauses at <paramref name="rung"/>, and returns its rank there for the decisions log.</summary>
    public string Record(string trialId, long rung, double value)
    {
        if (!_recorded.TryGetValue(rung, out var values))
        {
            throw new ArgumentOutOfRangeException(nameof(rung), rung, $"{rung} is not a rung; the rungs are [{string.Join(", ", Rungs)}]");
        }

        values.RemoveAll(v => v.TrialId == trialId);
        values.Add((trialId, value));
        return Describe(trialId, rung);
    }

    /// <summary>Adds a value recorded at <paramref name="rung"/> before a restart, and whether the trial was promoted from it, without deciding again.</summary>
    public void Restore(string trialId, long rung, double value, bool promoted)
    {
        if (!_recorded.TryGetValue(rung, out var values))
        {
            return;
        }

        values.RemoveAll(v => v.TrialId == trialId);
        values.Add((trialId, value));
        if (promoted)
        {
            _promoted[rung].Add(trialId);
        }
    }

    /// <summary>
    /// Returns the promotion to run next, or null when no paused trial may be promoted now. Looks
    /// from the top rung down and, within a rung, takes the best-ranked candidate. Trials for which
    /// <paramref name="canResume"/> returns false (their workers are still stopping) are passed over.
    /// Call <see cref="MarkPromoted"/> once the trial has its slots.
    /// </summary>
    public Promotion? FindPromotion(Func<string, bool> canResume)
    {
        for (var index = Rungs.Count - 1; index >= 0; index--)
        {
            var rung = Rungs[index];
            var ranked = Ranked(rung);
            var cut = ranked.Count / _reductionFactor;
            for (var rank = 0; rank < cut; rank++)
            {
                var (trialId, value) = ranked[rank];
                if (_promoted[rung].Contains(trialId) || !canResume(trialId))
                {
                    continue;
                }

                long? target = index + 1 < Rungs.Count ? Rungs[index + 1] : null;
                var reason = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{_objective.Metric} {value:G6} ranks {rank + 1} of {ranked.Count} at rung {rung}; the best ⌊{ranked.Count}/{_reductionFactor}⌋ = {cut} are promoted, and {_promoted[rung].Count} were before it");
                return new Promotion(trialId, rung, target, value, reason);
            }
        }

        return null;
    }

    /// <summary>Marks <paramref name="trialId"/> as promoted from <paramref name="rung"/>, so it is never promoted from it again.</summary>
    public void MarkPromoted(string trialId, long rung) => _promoted[rung].Add(trialId);

    /// <summary>Returns the rank of a trial at a rung and the current cut, as text for the decisions log.</summary>
    public string Describe(string trialId, long rung)
    {
        var ranked = Ranked(rung);
        var rank = ranked.FindIndex(v => v.TrialId == trialId);
        var value = rank < 0 ? double.NaN : ranked[rank].Value;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{_objective.Metric} {value:G6} ranks {rank + 1} of {ranked.Count} at rung {rung}; the best ⌊{ranked.Count}/{_reductionFactor}⌋ = {ranked.Count / _reductionFactor} are promoted");
    }

    /// <summary>Values at <paramref name="rung"/>, best first; a stable sort keeps the trial recorded first ahead on ties.</summary>
    private List<(string TrialId, double Value)> Ranked(long rung)
    {
        var values = _recorded[rung];
        return [.. values.OrderBy(v => _objective.Mode == ObjectiveMode.Min ? v.Value : -v.Value)];
    }
}
