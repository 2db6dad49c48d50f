using DeepGen.Distributed.Coordinator.Sweeps;
using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Coordinator.Sweeps.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Tests.Sweeps;

/// <summary>Sweeps of real VAE trials, each on its own coordinator and workers over loopback.</summary>
public sealed class LoopbackSweepTests
{
    // 1,280 images / (1 worker × 64) = 20 steps per epoch, 2 epochs per trial.
    private static readonly string Spec = $"""
        base:
          model: vae
          workers: 1
          epochs: 2
          batch_size: 64
          train_limit: 1280
          test_limit: 200
          data: {FashionMnist.DefaultDirectory}
        parameters:
          lr:
            grid: [1.0e-3, 3.0e-3]
          beta:
            grid: [0.5, 1.0]
        objective:
          metric: test_neg_elbo
          mode: min
        budget:
          max_concurrent: 2
        """;

    // The same sweep with 4 epochs (80 steps), evaluated every 5 steps, so it also writes a
    // checkpoint every 5 steps. The length leaves a killed trial too little time to finish all its
    // steps while its nodes stop.
    private static readonly string ResumableSpec = Spec
        .Replace("  test_limit: 200\n", "  test_limit: 200\n  eval_every: 5\n", StringComparison.Ordinal)
        .Replace("  epochs: 2\n", "  epochs: 4\n", StringComparison.Ordinal);

    /// <summary>The plan with trial-001 made to diverge at step 25, in its second epoch.</summary>
    private static SweepPlan PlanWithDivergingTrial()
    {
        var plan = SweepPlan.Parse(Spec);
        var trials = plan.Trials.Select(t => t.Id == "trial-001" ? t with { Config = t.Config with { InjectNanAtStep = 25 } } : t).ToList();
        return plan with { Trials = trials };
    }

    [Fact]
    public async Task Sweep_survives_a_diverging_trial()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create(Spec);
        var runner = new LocalClusterTrialRunner(TimeSpan.FromSeconds(60));

        var results = await SweepHost.RunAsync(PlanWithDivergingTrial(), store, runner, slots: 2, "WARNING", CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(["completed", "failed", "completed", "completed"], results.Trials.Select(t => t.Status));
        Assert.Contains("NaN at step 25", results.Trials[1].Reason, StringComparison.Ordinal);
        Assert.NotNull(results.BestTrialId);
        Assert.NotEqual("trial-001", results.BestTrialId);
        Assert.All(results.Trials.Where(t => t.Status == "completed"), t => Assert.InRange(t.FinalMetric!.Value, 100, 600));
        Assert.All(results.Trials.Where(t => t.Status == "completed"), t => Assert.True(File.Exists(Path.Combine(folder.Path, t.RunDirectory, "checkpoints", "final.ckpt"))));

        var csv = File.ReadAllLines(Path.Combine(folder.Path, SweepStore.ResultsCsvFileName));
        Assert.Equal(5, csv.Length);
        Assert.Contains(csv, l => l.StartsWith(results.BestTrialId + ",completed", StringComparison.Ordinal) && l.Contains(",yes,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Killed_sweep_resumes_from_checkpoints()
    {
        TorchRuntime.EnsureLoaded();
        Assert.Contains("eval_every: 5", ResumableSpec, StringComparison.Ordinal);
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create(ResumableSpec);
        var plan = SweepPlan.Parse(ResumableSpec);
        Assert.All(plan.Trials, t => Assert.Equal(5, t.Config.CheckpointEverySteps));
        var runner = new LocalClusterTrialRunner(TimeSpan.FromSeconds(60));

        // Kill once a trial has completed and the running ones are early in their 80 steps.
        await using (var sweep = new SweepUnderTest(plan, store, runner, slots: 2))
        {
            await sweep.WaitForStateAsync(
                s => s.Trials.Any(t => t.Status == TrialStatus.Completed)
                    && s.Trials.Any(t => t.Status == TrialStatus.Running)
                    && s.Trials.Where(t => t.Status == TrialStatus.Running).All(t => t.Curve.Count > 0 && t.Curve[^1].Step is >= 10 and <= 50),
                TimeSpan.FromMinutes(2),
                "a completed trial and every running one evaluated at a step from 10 to 50");
            await sweep.KillAsync();
        }

        var killed = store.LoadState()!;
        // A trial that started just before the kill may have no checkpoint yet and start again. The
        // ones evaluated at step 10 or later had written checkpoints and must resume from them.
        var running = killed.Trials.Where(t => t.Status == TrialStatus.Running && t.Curve.Any(p => p.Step >= 10)).Select(t => t.Id).ToList();
        var kept = killed.Trials.Where(t => t.Status == TrialStatus.Completed).ToDictionary(t => t.Id, t => t.FinalMetric);
        var checkpoints = kept.Keys.ToDictionary(id => id, id => File.GetLastWriteTimeUtc(Path.Combine(folder.Path, "trials", id, "checkpoints", "final.ckpt")));
        var curvesBefore = killed.Trials.ToDictionary(t => t.Id, t => t.Curve.Select(p => p.Step).ToList());
        var metricsBefore = new Dictionary<string, Dictionary<long, string>>();
        foreach (var id in running)
        {
            metricsBefore[id] = await StableMetricsAsync(Path.Combine(folder.Path, "trials", id));
        }

        // The killed trials' nodes stop in the background, so a trial may still finish its 80 steps
        // before they do. The resume then keeps it as finished.
        var interrupted = running.Where(id => metricsBefore[id].Count < 80).ToList();

        var results = await SweepHost.RunAsync(plan, store, new LocalClusterTrialRunner(TimeSpan.FromSeconds(60)), slots: 2, "WARNING", CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(4, results.Trials.Count);
        Assert.All(results.Trials, t => Assert.Equal("completed", t.Status));
        Assert.All(kept, k => Assert.Equal(k.Value, results.Trials.Single(t => t.Id == k.Key).FinalMetric));
        Assert.All(checkpoints, c => Assert.Equal(c.Value, File.GetLastWriteTimeUtc(Path.Combine(folder.Path, "trials", c.Key, "checkpoints", "final.ckpt"))));
        Assert.NotEmpty(interrupted);

        var decisions = File.ReadAllText(Path.Combine(folder.Path, SweepStore.DecisionsFileName));
        var final = store.LoadState()!;
        foreach (var id in interrupted)
        {
            Assert.False(Directory.Exists(Path.Combine(folder.Path, "trials", $"{id}.interrupted-1")), $"{id} started again from its initial weights:\n{decisions}");
            var match = System.Text.RegularExpressions.Regex.Match(decisions, $@"{id} resumes after step (\d+)");
            Assert.True(match.Success, $"decisions.log has no resume line for {id}:\n{decisions}");
            var resumedAfter = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(resumedAfter, 5, 79);

            // Every step is in metrics.csv once, and the rows up to the checkpoint are the ones
            // written before the kill, with the same loss and unix_time, so those steps were not
            // trained again.
            var metrics = ReadMetrics(Path.Combine(folder.Path, "trials", id));
            Assert.Equal(Enumerable.Range(1, 80).Select(i => (long)i), metrics.Keys.Order());
            for (long step = 1; step <= resumedAfter; step++)
            {
                Assert.Equal(metricsBefore[id][step], metrics[step]);
            }

            // The sweep state keeps the evaluations reported before the kill, each step once.
            var curve = final.Trials.Single(t => t.Id == id).Curve.Select(p => p.Step).ToList();
            Assert.Equal(curve.Distinct().Count(), curve.Count);
            Assert.Equal(curve.Order(), curve);
            Assert.Subset(curve.ToHashSet(), curvesBefore[id].ToHashSet());
            Assert.Equal(Enumerable.Range(1, 16).Select(i => 5L * i), curve);
            Assert.Equal(2, final.Trials.Single(t => t.Id == id).Attempts);
        }
    }

    /// <summary>Reads metrics.csv by step once the killed trial's nodes have stopped writing it (bounded wait).</summary>
    private static async Task<Dictionary<long, string>> StableMetricsAsync(string runDirectory)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var previous = ReadMetrics(runDirectory);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var current = ReadMetrics(runDirectory);
            if (current.Count == previous.Count)
            {
                return current;
            }

            previous = current;
        }

        throw new TimeoutException($"{runDirectory}/metrics.csv still grew 30 s after the sweep was killed");
    }

    private static Dictionary<long, string> ReadMetrics(string runDirectory) =>
        File.ReadAllLines(Path.Combine(runDirectory, "metrics.csv"))
            .Skip(1)
            .Where(l => l.Length > 0)
            .ToDictionary(l => long.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture), l => l);
}
