using System.Globalization;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Coordinator.Sweeps.Scheduling;

/// <summary>
/// Asynchronous successive halving (ASHA; Li et al., "A System for Massively Parallel Hyperparameter
/// Tuning", MLSys 2020) in its stopping form, the one Ray Tune's <c>AsyncHyperBandScheduler</c> uses:
/// when a trial reaches a rung, its metric joins the values recorded at that rung so far, and the
/// trial continues only when it ranks among the best ⌈n/η⌉ of those n values. Otherwise it is stopped
/// at once. Decisions never wait for other trials, so the first trial at a rung continues (rank 1 of 1).
/// </summary>
/// <remarks>
/// Rank: the number of other trials at the rung whose value is strictly better, so ties favour the
/// trial deciding now. A stopped trial's value stays in the rung and raises the bar for later ones.
/// </remarks>
public sealed class AshaPolicy : ITrialStoppingPolicy
{
    private readonly int _reductionFactor;
    private readonly SweepObjective _objective;
    private readonly Dictionary<long, List<(string TrialId, double Value)>> _recorded = [];
    private readonly Dictionary<string, int> _nextRung = new(StringComparer.Ordinal);
    private readonly HashSet<string> _stopped = new(StringComparer.Ordinal);

    /// <param name="rungs">Ascending rung milestones.</param>
    /// <param name="reductionFactor">η ≥ 2.</param>
    public AshaPolicy(IReadOnlyList<long> rungs, int reductionFactor, SweepObjective objective)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(reductionFactor, 2);
        Rungs = rungs;
        _reductionFactor = reductionFactor;
        _objective = objective;
        foreach (var rung in rungs)
        {
            _recorded[rung] = [];
        }
    }

    public IReadOnlyList<long> Rungs { get; }

    public IReadOnlyList<RungDecision> Report(string trialId, long resource, double value)
    {
        var decisions = new List<RungDecision>();
        if (_stopped.Contains(trialId))
        {
            return decisions;
        }

        var next = _nextRung.GetValueOrDefault(trialId);
        while (next < Rungs.Count && Rungs[next] <= resource)
        {
            var decision = Decide(trialId, Rungs[next], value);
            decisions.Add(decision);
            next++;
            if (!decision.Continue)
            {
                _stopped.Add(trialId);
                break;
            }
        }

        _nextRung[trialId] = next;
        return decisions;
    }

    public void Restore(string trialId, long rung, double value, bool continued)
    {
        if (!_recorded.TryGetValue(rung, out var values))
        {
            return;
        }

        values.Add((trialId, value));
        _nextRung[trialId] = Math.Max(_nextRung.GetValueOrDefault(trialId), Rungs.ToList().IndexOf(rung) + 1);
        if (!continued)
        {
            _stopped.Add(trialId);
        }
    }

    private RungDecision Decide(string trialId, long rung, double value)
    {
        var values = _recorded[rung];
        values.Add((trialId, value));
        var count = values.Count;
        var kept = (count + _reductionFactor - 1) / _reductionFactor;
        var better = values.Count(v => v.TrialId != trialId && _objective.IsBetter(v.Value, value));
        var rank = better + 1;
        var proceed = rank <= kept;
        var verdict = proceed ? "continues" : "stopped";
        var reason = string.Create(
            CultureInfo.InvariantCulture,
            $"{_objective.Metric} {value:G6} ranks {rank} of {count} at rung {rung}; the best ⌈{count}/{_reductionFactor}⌉ = {kept} continue, so it {verdict}");
        return new RungDecision(trialId, rung, value, proceed, reason);
    }
}
