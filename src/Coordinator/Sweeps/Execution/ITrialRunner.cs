using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Sweeps.Execution;

/// <summary>What a runner needs to run one trial.</summary>
/// <param name="RunDirectory">The trial's run folder (config, metrics, evaluations, checkpoints).</param>
/// <param name="Slots">Worker slots the scheduler gave the trial; as many as <see cref="TrainingConfig.Workers"/>.</param>
/// <param name="Evaluated">
/// Called for every evaluation of the trial (epoch ends and every <see cref="TrainingConfig.EvaluateEverySteps"/> steps),
/// on a thread of the runner's choosing; it must return quickly.
/// </param>
/// <param name="Log">
/// Called, on any thread, with each decision the runner takes for the trial on its own, such as the
/// checkpoint a resume starts from or a checkpoint it rejects. When null, the runner drops them.
/// </param>
public sealed record TrialLaunch(string TrialId, TrainingConfig Config, string RunDirectory, IReadOnlyList<int> Slots, Action<EpochEvaluation> Evaluated, Action<string>? Log = null);

/// <summary>How a trial ended when the runner let it end by itself.</summary>
/// <param name="FailureReason">Null when every epoch finished; otherwise why the run failed (NaN loss, lost worker, crash).</param>
/// <param name="FinalEvaluation">The last epoch's metrics, when the run finished and its last evaluation did too.</param>
public sealed record TrialOutcome(string? FailureReason, EpochEvaluation? FinalEvaluation)
{
    public bool Completed => FailureReason is null;

    public static TrialOutcome Failed(string reason) => new(reason, null);
}

/// <summary>A running trial.</summary>
/// <remarks>
/// <see cref="IAsyncDisposable.DisposeAsync"/> cancels the trial and returns once its workers have
/// stopped, so their slots are free for the next trial. After it, <see cref="Completion"/> may end
/// with any outcome, which the caller ignores.
/// </remarks>
public interface ITrialExecution : IAsyncDisposable
{
    /// <summary>Ends when the trial finishes or fails by itself; never faults.</summary>
    Task<TrialOutcome> Completion { get; }
}

/// <summary>Starts trials on worker slots. The scheduler calls it from its actor thread.</summary>
public interface ITrialRunner
{
    /// <summary>Starts a trial from its initial weights in an empty (or missing) run folder.</summary>
    ITrialExecution Start(TrialLaunch launch);

    /// <summary>
    /// Continues a trial from the latest valid checkpoint in <see cref="TrialLaunch.RunDirectory"/>:
    /// one that was running when the sweep's coordinator stopped, or one that ASHA paused at a rung
    /// and now promotes (its workers have stopped by then). It must not train the steps
    /// that the checkpoint already covers again. Evaluations after the checkpoint's step are
    /// reported again, because the resumed trial trains those steps again.
    /// </summary>
    ITrialExecution Resume(TrialLaunch launch);
}
