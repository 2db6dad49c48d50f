using DeepGen.Distributed.Coordinator.Sweeps.Search;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Coordinator.Sweeps;

/// <summary>A validated spec and the trials it expands to.</summary>
public sealed record SweepPlan(SweepSpec Spec, IReadOnlyList<TrialDefinition> Trials)
{
    /// <summary>Parses spec text and expands its search space.</summary>
    /// <exception cref="SweepSpecException">The spec is invalid.</exception>
    public static SweepPlan Parse(string specText)
    {
        var spec = SweepSpecParser.Parse(specText);
        return new SweepPlan(spec, SearchSpace.Expand(spec));
    }

    /// <summary>Most trials running at once: the budget's limit, or no limit besides the free slots.</summary>
    public int MaxConcurrentTrials => Spec.Budget.MaxConcurrentTrials > 0 ? Spec.Budget.MaxConcurrentTrials : int.MaxValue;

    /// <summary>The unit of the rungs, as written in the decisions log.</summary>
    public string Unit => Spec.Scheduler.Unit == ResourceUnit.Epochs ? "epochs" : "steps";
}
