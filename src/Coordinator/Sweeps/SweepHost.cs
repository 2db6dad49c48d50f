using Akka.Actor;
using Akka.Configuration;
using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Coordinator.Sweeps.Output;

namespace DeepGen.Distributed.Coordinator.Sweeps;

/// <summary>Runs a sweep's scheduler actor in its own actor system until the sweep ends.</summary>
public static class SweepHost
{
    /// <summary>
    /// Runs (or resumes, when <paramref name="store"/> has a state file) the sweep to its end and
    /// returns its results. Cancelling <paramref name="cancellation"/> stops the scheduler and its
    /// trials without marking them; <c>deepgen sweep resume</c> continues from there.
    /// </summary>
    /// <exception cref="InvalidOperationException">The state file does not match the plan, or the scheduler stopped unexpectedly.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled.</exception>
    /// <param name="schedulerStarted">Called with the scheduler actor once it exists, for example to report lost worker slots to it.</param>
    public static async Task<SweepResults> RunAsync(SweepPlan plan, SweepStore store, ITrialRunner runner, int slots, string logLevel, CancellationToken cancellation, Action<IActorRef>? schedulerStarted = null)
    {
        var saved = store.LoadState();
        if (saved is not null)
        {
            CheckState(plan, saved);
        }

        var config = ConfigurationFactory.ParseString($"akka.loglevel = {logLevel}\nakka.stdout-loglevel = ERROR");
        using var system = ActorSystem.Create("deepgen-sweep", config);
        try
        {
            var scheduler = system.ActorOf(SweepSchedulerActor.Props(plan, store, runner, slots, saved), "sweep-scheduler");
            schedulerStarted?.Invoke(scheduler);
            var stopped = scheduler.WatchAsync(cancellation);
            var finished = scheduler.Ask<SweepFinished>(RunSweep.Instance, Timeout.InfiniteTimeSpan, cancellation);
            var first = await Task.WhenAny(finished, stopped).ConfigureAwait(false);
            if (first == finished)
            {
                return (await finished.ConfigureAwait(false)).Results;
            }

            cancellation.ThrowIfCancellationRequested();
            throw new InvalidOperationException("the sweep scheduler stopped before the sweep finished; see the Akka log for its error, then run 'deepgen sweep resume'.");
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>Checks that a saved state lists exactly the trials the spec expands to.</summary>
    /// <exception cref="InvalidOperationException">The trial ids differ, for example because spec.yaml was edited.</exception>
    public static void CheckState(SweepPlan plan, SweepState saved)
    {
        var savedIds = saved.Trials.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        if (!savedIds.SetEquals(plan.Trials.Select(t => t.Id)))
        {
            throw new InvalidOperationException(
                $"the state file lists trials {string.Join(", ", savedIds.Order(StringComparer.Ordinal))}, but spec.yaml expands to {string.Join(", ", plan.Trials.Select(t => t.Id))}; restore the original spec.yaml.");
        }
    }
}
