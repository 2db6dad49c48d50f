using System.Globalization;
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
public sealed class LocalClusterTrialRunner(TimeSpan workerWaitTimeout, string logLevel = "WARNING") : ITrialRunner
{
    public ITrialExecution Start(TrialLaunch launch) => new LocalClusterTrial(launch, workerWaitTimeout, logLevel);

    /// <summary>
    /// Reuses a run that finished before the restart, or else starts the trial again in a fresh
    /// folder; the interrupted folder is kept beside it as <c>RUN_DIR.interrupted-N</c>.
    /// </summary>
    // TODO: resume from the latest checkpoint once 'deepgen train --resume RUN_DIR' exists;
    // CoordinatorActor's StartRun always begins from the seeded initial weights today, so an
    // interrupted trial trains its finished epochs again.
    public ITrialExecution Resume(TrialLaunch launch)
    {
        var final = Path.Combine(launch.RunDirectory, "checkpoints", "final.ckpt");
        if (File.Exists(final) && LastEvaluation(launch.RunDirectory, launch.Config) is { Epoch: var epoch } evaluation && epoch == launch.Config.Epochs)
        {
            return new FinishedTrial(new TrialOutcome(null, evaluation));
        }

        if (Directory.Exists(launch.RunDirectory))
        {
            var attempt = 1;
            while (Directory.Exists($"{launch.RunDirectory}.interrupted-{attempt}"))
            {
                attempt++;
            }

            Directory.Move(launch.RunDirectory, $"{launch.RunDirectory}.interrupted-{attempt}");
        }

        return Start(launch);
    }

    /// <summary>The last epoch-end row of <c>evaluation.csv</c>, or null when there is none.</summary>
    private static EpochEvaluation? LastEvaluation(string runDirectory, TrainingConfig config)
    {
        var path = Path.Combine(runDirectory, "evaluation.csv");
        if (!File.Exists(path))
        {
            return null;
        }

        var rows = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
        if (rows.Count == 0)
        {
            return null;
        }

        var last = rows[^1];
        var names = config.Family.EvaluationMetrics;
        var values = last.Skip(2).Take(names.Count).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        return new EpochEvaluation(int.Parse(last[0], CultureInfo.InvariantCulture), long.Parse(last[1], CultureInfo.InvariantCulture), names, values);
    }

    private sealed class FinishedTrial(TrialOutcome outcome) : ITrialExecution
    {
        public Task<TrialOutcome> Completion { get; } = Task.FromResult(outcome);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class LocalClusterTrial : ITrialExecution
    {
        private readonly CancellationTokenSource _cancellation = new();

        public LocalClusterTrial(TrialLaunch launch, TimeSpan workerWaitTimeout, string logLevel)
        {
            Completion = Task.Run(() => RunAsync(launch, workerWaitTimeout, logLevel, _cancellation.Token));
        }

        public Task<TrialOutcome> Completion { get; }

        public async ValueTask DisposeAsync()
        {
            await _cancellation.CancelAsync().ConfigureAwait(false);
            await Completion.ConfigureAwait(false);
            _cancellation.Dispose();
        }

        private static async Task<TrialOutcome> RunAsync(TrialLaunch launch, TimeSpan workerWaitTimeout, string logLevel, CancellationToken cancellation)
        {
            LocalCluster? cluster = null;
            try
            {
                cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, logLevel);
                cluster.StartWorkers(launch.Config.Workers, logLevel);
                var observer = new EvaluationForwarder(launch.Evaluated);
                var outcome = await cluster.RunAsync(new StartRun(launch.Config, launch.RunDirectory, observer, workerWaitTimeout), cancellation).ConfigureAwait(false);
                return outcome switch
                {
                    RunCompleted completed => new TrialOutcome(null, completed.FinalEvaluation),
                    RunFailed failed => TrialOutcome.Failed(failed.Reason),
                    _ => TrialOutcome.Failed($"unexpected reply from the trial's coordinator: {outcome}"),
                };
            }
            catch (OperationCanceledException)
            {
                return TrialOutcome.Failed("cancelled by the sweep scheduler");
            }
            catch (Exception error) when (error is InvalidOperationException or IOException or CheckpointException or Akka.Actor.AskTimeoutException)
            {
                return TrialOutcome.Failed($"{error.GetType().Name}: {error.Message}");
            }
            finally
            {
                if (cluster is not null)
                {
                    await cluster.DisposeAsync().ConfigureAwait(false);
                }
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
