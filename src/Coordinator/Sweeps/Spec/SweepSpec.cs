using DeepGen.Distributed.Configuration;

namespace DeepGen.Distributed.Coordinator.Sweeps.Spec;

/// <summary>Whether a smaller or a larger objective metric is better.</summary>
public enum ObjectiveMode
{
    Min,
    Max,
}

/// <summary>How trial configurations are drawn from the parameters.</summary>
public enum SearchKind
{
    /// <summary>Cartesian product of every parameter's values, first parameter varying slowest.</summary>
    Grid,

    /// <summary>Independent seeded draws of every parameter.</summary>
    Random,
}

/// <summary>How running trials are cut short.</summary>
public enum SchedulerKind
{
    /// <summary>Every trial runs to its last epoch; trials start in order.</summary>
    Fifo,

    /// <summary>
    /// Asynchronous successive halving, promotion form: every trial pauses at each rung, and a
    /// paused trial resumes from its checkpoint once it ranks among the best 1/η at its rung.
    /// </summary>
    Asha,

    /// <summary>
    /// Asynchronous successive halving, stopping form: a trial continues past a rung only while its
    /// metric ranks among the best 1/η of the values recorded there so far, and is stopped otherwise.
    /// </summary>
    AshaStopping,
}

/// <summary>The unit of the scheduler's rungs.</summary>
public enum ResourceUnit
{
    Epochs,
    Steps,
}

/// <summary>Metric that ranks trials.</summary>
/// <param name="Metric">One of the model family's evaluation metrics, for example <c>test_neg_elbo</c>.</param>
public sealed record SweepObjective(string Metric, ObjectiveMode Mode)
{
    /// <summary>True when <paramref name="candidate"/> is strictly better than <paramref name="reference"/>.</summary>
    public bool IsBetter(double candidate, double reference) => Mode == ObjectiveMode.Min ? candidate < reference : candidate > reference;
}

/// <summary>Search strategy.</summary>
/// <param name="Samples">Random search: the number of trials drawn.</param>
public sealed record SweepSearch(SearchKind Kind, int Seed, int Samples);

/// <summary>Limits of a sweep.</summary>
/// <param name="MaxTrials">Trials run at most; a longer grid or sample list is cut to its first <paramref name="MaxTrials"/>.</param>
/// <param name="MaxConcurrentTrials">Trials running at the same time at most, whatever the free workers.</param>
public sealed record SweepBudget(int MaxTrials, int MaxConcurrentTrials);

/// <summary>Trial scheduler and its rung ladder.</summary>
/// <param name="Kind">Scheduler; its spelling in specs and state files is <see cref="Name"/>.</param>
/// <param name="GracePeriod">First rung, in <paramref name="Unit"/>; no trial is stopped before it.</param>
/// <param name="ReductionFactor">η: rungs lie at grace·η^k, and about 1/η of the trials pass each rung.</param>
/// <param name="MaxResource">Resource at which a trial is complete; rungs lie strictly below it.</param>
public sealed record SweepScheduler(SchedulerKind Kind, ResourceUnit Unit, long GracePeriod, int ReductionFactor, long MaxResource)
{
    /// <summary>The <c>scheduler.type</c> value of the spec: <c>fifo</c>, <c>asha</c> or <c>asha_stopping</c>.</summary>
    public string Name => Kind switch
    {
        SchedulerKind.Asha => "asha",
        SchedulerKind.AshaStopping => "asha_stopping",
        _ => "fifo",
    };

    /// <summary>Rung milestones grace·η^k that lie strictly below <see cref="MaxResource"/>; empty for FIFO.</summary>
    public IReadOnlyList<long> Rungs()
    {
        var rungs = new List<long>();
        if (Kind == SchedulerKind.Fifo)
        {
            return rungs;
        }

        for (var milestone = GracePeriod; milestone < MaxResource; milestone *= ReductionFactor)
        {
            rungs.Add(milestone);
        }

        return rungs;
    }
}

/// <summary>A validated sweep specification.</summary>
/// <param name="Base">Configuration shared by every trial before the parameters are applied; <see cref="TrainingConfig.Workers"/> is the workers per trial.</param>
/// <param name="Parameters">Search space, in the order of the file.</param>
public sealed record SweepSpec(
    TrainingConfig Base,
    IReadOnlyList<SweepParameter> Parameters,
    SweepSearch Search,
    SweepObjective Objective,
    SweepBudget Budget,
    SweepScheduler Scheduler);
