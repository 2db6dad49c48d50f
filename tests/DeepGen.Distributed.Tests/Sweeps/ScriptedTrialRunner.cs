using System.Collections.Concurrent;
using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Tests.Sweeps;

/// <summary>
/// Fake trial runner: each trial reports a scripted objective value per epoch, one epoch every
/// <see cref="EpochDelay"/>, then completes. A NaN in the script fails the trial like a diverged run.
/// </summary>
internal sealed class ScriptedTrialRunner(IReadOnlyDictionary<string, double[]> scripts) : ITrialRunner
{
    public IReadOnlyDictionary<string, double[]> Scripts { get; } = scripts;

    public TimeSpan EpochDelay { get; init; } = TimeSpan.FromMilliseconds(30);

    /// <summary>Calls in order, as "start trial-000" or "resume trial-001".</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>Trials whose execution was cancelled.</summary>
    public ConcurrentQueue<string> Cancelled { get; } = new();

    /// <summary>
    /// Trials running now and not cancelled; the maximum is checked against the slot count. A
    /// cancelled trial stops counting when its cancellation starts, because the scheduler gives its
    /// slots to the next trial at once.
    /// </summary>
    public int Running => _running;

    public int MaxRunning { get; private set; }

    private int _running;

    public ITrialExecution Start(TrialLaunch launch)
    {
        Calls.Enqueue($"start {launch.TrialId}");
        return new Execution(this, launch, firstEpoch: 1);
    }

    public ITrialExecution Resume(TrialLaunch launch)
    {
        Calls.Enqueue($"resume {launch.TrialId}");

        // Resumes after the last epoch the run folder records, as a checkpoint resume would.
        var marker = Path.Combine(launch.RunDirectory, "last-epoch");
        var done = File.Exists(marker) ? int.Parse(File.ReadAllText(marker), System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new Execution(this, launch, firstEpoch: done + 1);
    }

    private sealed class Execution : ITrialExecution
    {
        private readonly CancellationTokenSource _cancellation = new();
        private readonly ScriptedTrialRunner _runner;
        private int _counted = 1;

        public Execution(ScriptedTrialRunner runner, TrialLaunch launch, int firstEpoch)
        {
            _runner = runner;
            var running = Interlocked.Increment(ref runner._running);
            lock (runner)
            {
                runner.MaxRunning = Math.Max(runner.MaxRunning, running);
            }

            Completion = RunAsync(launch, firstEpoch, _cancellation.Token);
        }

        public Task<TrialOutcome> Completion { get; }

        public async ValueTask DisposeAsync()
        {
            StopCounting();
            await _cancellation.CancelAsync();
            await Completion;
            _cancellation.Dispose();
        }

        private async Task<TrialOutcome> RunAsync(TrialLaunch launch, int firstEpoch, CancellationToken cancellation)
        {
            try
            {
                Directory.CreateDirectory(launch.RunDirectory);
                var script = _runner.Scripts[launch.TrialId];
                EpochEvaluation? last = null;
                for (var epoch = firstEpoch; epoch <= script.Length; epoch++)
                {
                    await Task.Delay(_runner.EpochDelay, cancellation);
                    if (double.IsNaN(script[epoch - 1]))
                    {
                        return TrialOutcome.Failed($"rank 0 failed: the loss is NaN at step {epoch * 10}");
                    }

                    last = new EpochEvaluation(epoch, epoch * 10L, ["test_neg_elbo"], [script[epoch - 1]]);
                    await File.WriteAllTextAsync(Path.Combine(launch.RunDirectory, "last-epoch"), epoch.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);
                    launch.Evaluated(last);
                }

                return new TrialOutcome(null, last);
            }
            catch (OperationCanceledException)
            {
                _runner.Cancelled.Enqueue(launch.TrialId);
                return TrialOutcome.Failed("cancelled");
            }
            finally
            {
                StopCounting();
            }
        }

        private void StopCounting()
        {
            if (Interlocked.Exchange(ref _counted, 0) == 1)
            {
                Interlocked.Decrement(ref _runner._running);
            }
        }
    }
}
