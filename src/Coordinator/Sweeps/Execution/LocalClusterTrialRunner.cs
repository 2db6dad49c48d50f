using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Sweeps.Execution;

/// <summary>
/// Runs each trial on its own <see cref="LocalCluster"/>: a coordinator node and one worker node
/// per slot, all in this process and joined over loopback. Cancelling a trial shuts its nodes
/// down, which closes the workers' rings and frees their CPU.
/// </summary>
/// <param name="workerWaitTimeout">How long a trial's coordinator waits for its workers to register.</param>
/// <param name="logLevel">Akka log level of the trial nodes.</param>
/// <param name="nodes">Provides each trial's coordinator and workers; null gives every trial its own <see cref="OwnClusterNodes"/>.</param>
public sealed class LocalClusterTrialRunner(TimeSpan workerWaitTimeout, string logLevel = "WARNING", Func<TrialLaunch, ITrialNodes>? nodes = null) : ITrialRunner
{
    /// <summary>
    /// Acceptable heartbeat pause of a trial's own nodes. They share this process, so a late
    /// heartbeat means busy CPUs, not a lost node: with the 3 s default, trials of a sweep on
    /// an oversubscribed 2-core machine lost their only worker and failed.
    /// </summary>
    private static readonly TimeSpan HeartbeatPause = TimeSpan.FromSeconds(20);

    private readonly Func<TrialLaunch, ITrialNodes> _nodes = nodes ?? (launch => new OwnClusterNodes(launch.Config.Workers, logLevel, HeartbeatPause));

    public ITrialExecution Start(TrialLaunch launch) => new LocalClusterTrial(launch, null, workerWaitTimeout, _nodes(launch));

    /// <summary>
    /// Reuses a run that finished before the restart. Otherwise continues the run in its folder from
    /// the newest usable checkpoint (see <see cref="TrialCheckpoints.NewestUsable"/>), which removes the
    /// rows of <c>metrics.csv</c> and <c>evaluation.csv</c> after the checkpoint's step. Only when no
    /// checkpoint is usable does the trial start again from its initial weights in a fresh folder; the
    /// interrupted one is kept beside it as <c>RUN_DIR.interrupted-N</c>.
    /// </summary>
    public ITrialExecution Resume(TrialLaunch launch)
    {
        // The sweep may have stopped before it recorded every evaluation that the run wrote. So the
        // recorded ones are reported again (up to the checkpoint when the trial resumes), and the
        // scheduler skips those it has.
        var log = launch.Log ?? (_ => { });
        var final = Path.Combine(launch.RunDirectory, "checkpoints", "final.ckpt");
        var recorded = TrialCheckpoints.ReadEvaluations(launch.RunDirectory, launch.Config, launch.Config.Epochs);
        if (File.Exists(final) && recorded.Count > 0 && recorded[^1].Epoch == launch.Config.Epochs)
        {
            log("had finished every epoch and its final evaluation before the sweep stopped, so its results are kept");
            Replay(launch, recorded);
            return new FinishedTrial(new TrialOutcome(null, recorded[^1]));
        }

        if (TrialCheckpoints.NewestUsable(launch.RunDirectory, launch.Config, log) is { } point)
        {
            log($"resumes after step {point.Step}: {point.Epoch} epoch(s) complete, {point.Position} samples of the next one trained");
            Replay(launch, TrialCheckpoints.ReadEvaluations(launch.RunDirectory, launch.Config, point.Epoch).Where(e => e.Step <= point.Step));
            return new LocalClusterTrial(launch, point, workerWaitTimeout, _nodes(launch));
        }

        var moved = TrialCheckpoints.MoveAside(launch.RunDirectory);
        log(moved is null
            ? "has no run folder, so it starts from its initial weights"
            : $"has no usable checkpoint, so it starts again from its initial weights; the interrupted run folder is kept as {Path.GetFileName(moved)}");
        return Start(launch);
    }

    private static void Replay(TrialLaunch launch, IEnumerable<EpochEvaluation> evaluations)
    {
        foreach (var evaluation in evaluations)
        {
            launch.Evaluated(evaluation);
        }
    }

    private sealed class FinishedTrial(TrialOutcome outcome) : ITrialExecution
    {
        public Task<TrialOutcome> Completion { get; } = Task.FromResult(outcome);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>
    /// A trial's run on its own nodes. <see cref="Completion"/> ends as soon as the coordinator
    /// replies, so the scheduler can give the slots to the next trial at once. The nodes then shut
    /// down in the background, and <see cref="DisposeAsync"/> waits for that.
    /// </summary>
    private sealed class LocalClusterTrial : ITrialExecution
    {
        private readonly CancellationTokenSource _cancellation = new();
        private readonly TaskCompletionSource<TrialOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _stopped;

        /// <param name="resume">Checkpointed state to continue from, or null to start from the initial weights.</param>
        public LocalClusterTrial(TrialLaunch launch, ResumePoint? resume, TimeSpan workerWaitTimeout, ITrialNodes nodes)
        {
            var token = _cancellation.Token;
            _stopped = Task.Run(() => RunAsync(launch, resume, workerWaitTimeout, nodes, _outcome, token));
        }

        public Task<TrialOutcome> Completion => _outcome.Task;

        public async ValueTask DisposeAsync()
        {
            await _cancellation.CancelAsync().ConfigureAwait(false);
            await _stopped.ConfigureAwait(false);
            _cancellation.Dispose();
        }

        private static async Task RunAsync(TrialLaunch launch, ResumePoint? resume, TimeSpan workerWaitTimeout, ITrialNodes nodes, TaskCompletionSource<TrialOutcome> outcome, CancellationToken cancellation)
        {
            try
            {
                var observer = new EvaluationForwarder(launch.Evaluated);
                var reply = await nodes.RunAsync(new StartRun(launch.Config, launch.RunDirectory, observer, workerWaitTimeout, resume), cancellation).ConfigureAwait(false);
                outcome.TrySetResult(reply switch
                {
                    RunCompleted completed => new TrialOutcome(null, completed.FinalEvaluation),
                    RunFailed failed => TrialOutcome.Failed(failed.Reason),
                    _ => TrialOutcome.Failed($"unexpected reply from the trial's coordinator: {reply}"),
                });
            }
            catch (OperationCanceledException)
            {
                outcome.TrySetResult(TrialOutcome.Failed("cancelled by the sweep scheduler"));
            }
            catch (Exception error) when (error is InvalidOperationException or IOException or CheckpointException or Akka.Actor.AskTimeoutException)
            {
                outcome.TrySetResult(TrialOutcome.Failed($"{error.GetType().Name}: {error.Message}"));
            }
            finally
            {
                // Any other exception still ends the trial; it surfaces from DisposeAsync.
                outcome.TrySetResult(TrialOutcome.Failed("the trial's nodes stopped without a reply from its coordinator"));
                await nodes.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Passes evaluations to the scheduler and drops the per-step progress.</summary>
    private sealed class EvaluationForwarder(Action<EpochEvaluation> evaluated) : IRunObserver
    {
        public void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch)
        {
        }

        public void StepCompleted(StepCompleted report, double samplesPerSecond)
        {
        }

        public void EpochEvaluated(EpochEvaluation evaluation) => evaluated(evaluation);

        public void Log(string message)
        {
        }
    }
}
