using DeepGen.Distributed.Coordinator.Sweeps;
using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Coordinator.Sweeps.Output;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Tests.Sweeps;

/// <summary>The scheduler actor with a scripted runner: placement, ASHA verdicts, failures, lost slots and resume.</summary>
public sealed class SweepSchedulerActorTests
{
    private static SweepPlan Plan(int trials, int epochs, string scheduler, int maxConcurrent = 0) => SweepPlan.Parse($"""
        base:
          model: vae
          epochs: {epochs}
          workers: 1
        parameters:
          seed:
            grid: [{string.Join(", ", Enumerable.Range(1, trials))}]
        objective:
          metric: test_neg_elbo
          mode: min
        {(maxConcurrent > 0 ? $"budget: {{max_concurrent: {maxConcurrent}}}" : "")}
        scheduler: {scheduler}
        """);

    private static Dictionary<string, double[]> Scripts(params double[][] values) =>
        values.Select((v, i) => (Id: $"trial-{i:D3}", v)).ToDictionary(x => x.Id, x => x.v);

    [Fact]
    public async Task Asha_stopping_cuts_trials_at_hand_computed_rungs()
    {
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create("# scripted\n");

        // One slot, so trials run in id order. η = 2, rungs at epochs 1 and 2, complete at 3.
        // Rung 1: t0 300 (1 of 1, keep 1) go; t1 310 (2 of 2, keep 1) stop; t2 290 (1 of 3, keep 2) go;
        //         t3 295 (2 of 4, keep 2) go; t4 320 (5 of 5, keep 3) stop.
        // Rung 2: t0 280 (1 of 1) go; t2 285 (2 of 2, keep 1) stop; t3 275 (1 of 3, keep 2) go.
        var runner = new ScriptedTrialRunner(Scripts(
            [300, 280, 270],
            [310, 290, 260],
            [290, 285, 250],
            [295, 275, 255],
            [320, 300, 200]));
        await using var sweep = new SweepUnderTest(Plan(5, 3, "{type: asha_stopping, grace_period: 1, reduction_factor: 2}"), store, runner, slots: 1);

        var results = (await sweep.Finished).Results;

        Assert.Equal([1L, 2L], results.Rungs);
        Assert.Equal(["completed", "stopped", "stopped", "completed", "stopped"], results.Trials.Select(t => t.Status));
        Assert.Equal([1L, 2L, 1L, 1L, 2L, 1L, 2L, 1L], results.Trials.SelectMany(t => t.RungValues.Select(r => r.Rung)));
        Assert.Contains("rung 1 epochs", results.Trials[1].Reason, StringComparison.Ordinal);
        Assert.Contains("ranks 2 of 2", results.Trials[2].Reason, StringComparison.Ordinal);
        Assert.Contains("ranks 5 of 5", results.Trials[4].Reason, StringComparison.Ordinal);
        Assert.Equal("trial-003", results.BestTrialId);
        Assert.Equal(255, results.BestMetric);
        Assert.Equal(["trial-001", "trial-002", "trial-004"], runner.Cancelled.Order());
        Assert.Equal(1, runner.MaxRunning);

        var decisions = File.ReadAllText(Path.Combine(folder.Path, SweepStore.DecisionsFileName));
        Assert.Contains("trial-004 stopped: ASHA stopped it at rung 1 epochs", decisions, StringComparison.Ordinal);
        var csv = File.ReadAllLines(Path.Combine(folder.Path, SweepStore.ResultsCsvFileName));
        Assert.Equal("trial,status,seed,rung_1,rung_2,final_test_neg_elbo,best,reason,run_directory", csv[0]);
        Assert.StartsWith("trial-003,completed,4,295,275,255,yes,", csv[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Asha_promotes_paused_trials_at_hand_computed_rungs()
    {
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create("# scripted\n");

        // One slot, η = 2, rungs at epochs 1 and 2, complete at 3. A rung with n values promotes its best ⌊n/2⌋.
        // t0 pauses at 1 (300; n 1, cut 0) → t1 starts, pauses at 1 (310; cut 1: t0) → t0 resumes,
        // pauses at 2 (280; n 1, cut 0) → t2 starts, pauses at 1 (290; n 3, cut 1: t2) → t2 resumes,
        // pauses at 2 (285; cut 1: t0) → t0 resumes to epoch 3 and completes with 270 → t3 starts,
        // pauses at 1 (295; n 4, cut 2: t2 promoted, t3 not) → t3 resumes, pauses at 2 (275; n 3,
        // cut 1: t3 ranks first and was not promoted from it) → t3 resumes and completes with 255
        // → nothing is left to start or promote, so t1 (paused at 1) and t2 (paused at 2) stop.
        var runner = new ScriptedTrialRunner(Scripts(
            [300, 280, 270],
            [310, 290, 260],
            [290, 285, 250],
            [295, 275, 255])) { EpochDelay = TimeSpan.FromMilliseconds(400) };
        await using var sweep = new SweepUnderTest(Plan(4, 3, "{type: asha, grace_period: 1, reduction_factor: 2}"), store, runner, slots: 1);

        var results = (await sweep.Finished).Results;

        Assert.Equal([1L, 2L], results.Rungs);
        Assert.Equal(["completed", "stopped", "stopped", "completed"], results.Trials.Select(t => t.Status));
        Assert.Equal(
            ["start trial-000", "start trial-001", "resume trial-000", "start trial-002", "resume trial-002", "resume trial-000", "start trial-003", "resume trial-003", "resume trial-003"],
            runner.Calls);
        Assert.Equal([new(1, 300, true), new(2, 280, true)], results.Trials[0].RungValues);
        Assert.Equal([new(1, 310, false)], results.Trials[1].RungValues);
        Assert.Equal([new(1, 290, true), new(2, 285, false)], results.Trials[2].RungValues);
        Assert.Equal([new(1, 295, true), new(2, 275, true)], results.Trials[3].RungValues);
        Assert.Contains("stopped at rung 1 epochs", results.Trials[1].Reason, StringComparison.Ordinal);
        Assert.Contains("ranks 4 of 4", results.Trials[1].Reason, StringComparison.Ordinal);
        Assert.Contains("stopped at rung 2 epochs", results.Trials[2].Reason, StringComparison.Ordinal);
        Assert.Contains("ranks 3 of 3", results.Trials[2].Reason, StringComparison.Ordinal);
        Assert.Equal("trial-003", results.BestTrialId);
        Assert.Equal(255, results.BestMetric);
        Assert.Equal(1, runner.MaxRunning);

        // Each trial reports each epoch once, although a promoted trial resumes after a pause.
        Assert.Equal([1, 2, 3], results.Trials[0].Curve.Select(p => p.Epoch));
        Assert.Equal([1, 2, 3], results.Trials[3].Curve.Select(p => p.Epoch));

        var decisions = File.ReadAllText(Path.Combine(folder.Path, SweepStore.DecisionsFileName));
        Assert.Contains("trial-001 paused at rung 1 epochs", decisions, StringComparison.Ordinal);
        Assert.Contains("trial-000 promoted from rung 2 epochs to its last epoch", decisions, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paused_trial_is_promoted_after_resume()
    {
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create("# scripted\n");

        // η = 2, one rung at epoch 1, complete at 2. The sweep is killed once trial-000 is paused.
        double[][] scripts = [[300, 280], [310, 290]];
        var plan = Plan(2, 2, "{type: asha, grace_period: 1, reduction_factor: 2}");
        var first = new ScriptedTrialRunner(Scripts(scripts)) { EpochDelay = TimeSpan.FromMilliseconds(500) };
        await using (var sweep = new SweepUnderTest(plan, store, first, slots: 1))
        {
            await sweep.WaitForStateAsync(s => s.Trials[0].Status == TrialStatus.Paused, TimeSpan.FromSeconds(30), "trial-000 paused");
            await sweep.KillAsync();
        }

        Assert.Equal([new RungResult(1, 300, false)], store.LoadState()!.Trials[0].Rungs);

        // After the restart trial-001 pauses at 310, so trial-000 ranks first of 2 and resumes.
        var second = new ScriptedTrialRunner(Scripts(scripts)) { EpochDelay = TimeSpan.FromMilliseconds(20) };
        await using var resumed = new SweepUnderTest(plan, store, second, slots: 1);
        var results = (await resumed.Finished).Results;

        Assert.Equal(["completed", "stopped"], results.Trials.Select(t => t.Status));
        Assert.Equal("resume trial-000", second.Calls.Last());
        Assert.Equal([new RungResult(1, 300, true)], results.Trials[0].RungValues);
        Assert.Equal(280, results.BestMetric);
        Assert.Contains("1 paused at rungs", File.ReadAllText(Path.Combine(folder.Path, SweepStore.DecisionsFileName)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failed_trials_are_never_best()
    {
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create("# scripted\n");

        // trial-001 has the best first epoch, then diverges; trial-002 reports an infinite metric.
        var runner = new ScriptedTrialRunner(Scripts(
            [300, 290],
            [100, double.NaN],
            [double.PositiveInfinity, 1],
            [310, 295]));
        await using var sweep = new SweepUnderTest(Plan(4, 2, "{type: fifo}"), store, runner, slots: 2);

        var results = (await sweep.Finished).Results;

        Assert.Equal(["completed", "failed", "failed", "completed"], results.Trials.Select(t => t.Status));
        Assert.Contains("NaN at step 20", results.Trials[1].Reason, StringComparison.Ordinal);
        Assert.Contains("test_neg_elbo is Infinity", results.Trials[2].Reason, StringComparison.Ordinal);
        Assert.Equal("trial-000", results.BestTrialId);
        Assert.Equal(2, runner.MaxRunning);
    }

    [Fact]
    public async Task Concurrency_limit_caps_running_trials()
    {
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create("# scripted\n");
        var runner = new ScriptedTrialRunner(Scripts([3, 2], [3, 2], [3, 2], [3, 2], [3, 1]));
        await using var sweep = new SweepUnderTest(Plan(5, 2, "{type: fifo}", maxConcurrent: 2), store, runner, slots: 4);

        var results = (await sweep.Finished).Results;

        Assert.All(results.Trials, t => Assert.Equal("completed", t.Status));
        Assert.Equal(2, runner.MaxRunning);
        Assert.Equal("trial-004", results.BestTrialId);
    }

    [Fact]
    public async Task Lost_slot_fails_only_its_trial()
    {
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create("# scripted\n");
        var runner = new ScriptedTrialRunner(Scripts([5, 4, 3], [5, 4, 3], [5, 4, 3], [5, 4, 3], [5, 4, 3])) { EpochDelay = TimeSpan.FromMilliseconds(150) };
        await using var sweep = new SweepUnderTest(Plan(5, 3, "{type: fifo}"), store, runner, slots: 3);
        await sweep.WaitForStateAsync(s => s.Trials.Count(t => t.Status == TrialStatus.Running) == 3, TimeSpan.FromSeconds(20), "three running trials");

        sweep.Scheduler.Tell(new WorkerSlotLost(1, "its node became unreachable"), Akka.Actor.ActorRefs.NoSender);
        var results = (await sweep.Finished).Results;

        Assert.Equal(["completed", "failed", "completed", "completed", "completed"], results.Trials.Select(t => t.Status));
        Assert.Contains("worker slot 1 was lost (its node became unreachable)", results.Trials[1].Reason, StringComparison.Ordinal);
        var state = store.LoadState()!;
        Assert.Equal(2, state.Slots);
        Assert.DoesNotContain(state.Trials.Skip(2), t => t.Slots.Contains(1));
    }

    [Fact]
    public async Task Resume_continues_interrupted_trials()
    {
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create("# scripted\n");
        double[][] scripts = [[9, 8, 7, 6], [9, 8, 7, 5], [9, 8, 7, 4], [9, 8, 7, 3], [9, 8, 7, 2]];
        var plan = Plan(5, 4, "{type: fifo}");
        var first = new ScriptedTrialRunner(Scripts(scripts)) { EpochDelay = TimeSpan.FromMilliseconds(100) };
        await using (var sweep = new SweepUnderTest(plan, store, first, slots: 2))
        {
            // Kill once two trials are done and trial-002 has finished at least one epoch.
            await sweep.WaitForStateAsync(
                s => s.Trials.Count(t => t.Status == TrialStatus.Completed) >= 2 && s.Trials[2].Curve.Count >= 1 && s.Trials[2].Status == TrialStatus.Running,
                TimeSpan.FromSeconds(30),
                "two completed trials and trial-002 past its first epoch");
            await sweep.KillAsync();
        }

        var killed = store.LoadState()!;
        var interrupted = killed.Trials.Where(t => t.Status == TrialStatus.Running).Select(t => t.Id).ToList();
        var kept = killed.Trials.Where(t => t.Status == TrialStatus.Completed).Select(t => t.Id).ToList();
        Assert.Contains("trial-002", interrupted);

        var second = new ScriptedTrialRunner(Scripts(scripts)) { EpochDelay = TimeSpan.FromMilliseconds(20) };
        await using var resumed = new SweepUnderTest(plan, store, second, slots: 2);
        var results = (await resumed.Finished).Results;

        Assert.All(results.Trials, t => Assert.Equal("completed", t.Status));
        Assert.All(interrupted, id => Assert.Contains($"resume {id}", second.Calls));
        Assert.All(kept, id => Assert.DoesNotContain(second.Calls, c => c.EndsWith(id, StringComparison.Ordinal)));

        // No trial trained an epoch twice: epochs rise strictly from 1 to 4. An epoch whose
        // checkpoint was written just before the kill, but whose evaluation was not yet saved, is
        // missing from the curve, because the resumed trial starts after it.
        Assert.All(results.Trials, t => Assert.Equal(1, t.Curve[0].Epoch));
        Assert.All(results.Trials, t => Assert.Equal(4, t.Curve[^1].Epoch));
        Assert.All(results.Trials, t => Assert.True(t.Curve.Zip(t.Curve.Skip(1)).All(pair => pair.First.Epoch < pair.Second.Epoch), $"{t.Id} repeated an epoch: {string.Join(", ", t.Curve.Select(p => p.Epoch))}"));
        Assert.Equal("trial-004", results.BestTrialId);
        Assert.True(results.ElapsedSeconds >= killed.ElapsedSeconds);
        Assert.Contains("sweep resumed", File.ReadAllText(Path.Combine(folder.Path, SweepStore.DecisionsFileName)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_replays_evaluations_without_duplicates()
    {
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create("# scripted\n");
        var plan = Plan(1, 4, "{type: asha_stopping, grace_period: 1, reduction_factor: 2}");
        Assert.Equal([1L, 2], plan.Spec.Scheduler.Rungs());

        // The first attempt evaluates epochs 1 to 3, then hangs until the sweep is killed.
        var first = new DelegateTrialRunner(async (launch, cancellation) =>
        {
            foreach (var (epoch, value) in new[] { (1, 9.0), (2, 8.0), (3, 7.0) })
            {
                launch.Evaluated(new EpochEvaluation(epoch, epoch * 10L, ["test_neg_elbo"], [value]));
            }

            await Task.Delay(Timeout.Infinite, cancellation);
            return TrialOutcome.Failed("unreachable");
        });
        await using (var sweep = new SweepUnderTest(plan, store, first, slots: 1))
        {
            await sweep.WaitForStateAsync(s => s.Trials[0].Curve.Count == 3, TimeSpan.FromSeconds(30), "three evaluations of trial-000");
            await sweep.KillAsync();
        }

        var killed = store.LoadState()!.Trials[0];
        Assert.Equal(2, killed.Rungs.Count);

        // The resumed attempt replays epochs 1 and 2 from its checkpoint's run folder, trains
        // epoch 3 again with another value, and finishes epoch 4.
        var second = new DelegateTrialRunner((launch, _) =>
        {
            foreach (var (epoch, value) in new[] { (1, 9.0), (2, 8.0), (3, 6.5), (4, 6.0) })
            {
                launch.Evaluated(new EpochEvaluation(epoch, epoch * 10L, ["test_neg_elbo"], [value]));
            }

            return Task.FromResult(new TrialOutcome(null, new EpochEvaluation(4, 40, ["test_neg_elbo"], [6.0])));
        });
        await using var resumed = new SweepUnderTest(plan, store, second, slots: 1);
        var results = (await resumed.Finished).Results;

        var trial = store.LoadState()!.Trials[0];
        Assert.Equal("completed", results.Trials[0].Status);
        Assert.Equal([10L, 20, 30, 40], trial.Curve.Select(p => p.Step));
        Assert.Equal([9.0, 8.0, 6.5, 6.0], trial.Curve.Select(p => p.Value));
        Assert.Equal(killed.Curve[0], trial.Curve[0]);
        Assert.Equal(killed.Curve[1], trial.Curve[1]);
        Assert.Equal(killed.Rungs, trial.Rungs);
        Assert.Equal(6.0, trial.FinalMetric);
    }

    /// <summary>A runner whose every start and resume runs the same delegate until it returns or is cancelled.</summary>
    private sealed class DelegateTrialRunner(Func<TrialLaunch, CancellationToken, Task<TrialOutcome>> run) : ITrialRunner
    {
        public ITrialExecution Start(TrialLaunch launch) => new Execution(launch, run);

        public ITrialExecution Resume(TrialLaunch launch) => new Execution(launch, run);

        private sealed class Execution : ITrialExecution
        {
            private readonly CancellationTokenSource _cancellation = new();

            public Execution(TrialLaunch launch, Func<TrialLaunch, CancellationToken, Task<TrialOutcome>> run)
            {
                var token = _cancellation.Token;
                Completion = Task.Run(async () =>
                {
                    try
                    {
                        return await run(launch, token);
                    }
                    catch (OperationCanceledException)
                    {
                        return TrialOutcome.Failed("cancelled");
                    }
                });
            }

            public Task<TrialOutcome> Completion { get; }

            public async ValueTask DisposeAsync()
            {
                await _cancellation.CancelAsync();
                await Completion;
                _cancellation.Dispose();
            }
        }
    }
}
