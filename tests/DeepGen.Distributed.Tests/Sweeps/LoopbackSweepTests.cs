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
    public async Task Killed_sweep_resumes_without_losing_trials()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create(Spec);
        var plan = SweepPlan.Parse(Spec);
        var runner = new LocalClusterTrialRunner(TimeSpan.FromSeconds(60));

        await using (var sweep = new SweepUnderTest(plan, store, runner, slots: 2))
        {
            await sweep.WaitForStateAsync(
                s => s.Trials.Any(t => t.Status == TrialStatus.Completed) && s.Trials.Any(t => t.Status == TrialStatus.Running),
                TimeSpan.FromMinutes(2),
                "a completed trial and a running one");
            await sweep.KillAsync();
        }

        var killed = store.LoadState()!;
        var kept = killed.Trials.Where(t => t.Status == TrialStatus.Completed).ToDictionary(t => t.Id, t => t.FinalMetric);
        var checkpoints = kept.Keys.ToDictionary(id => id, id => File.GetLastWriteTimeUtc(Path.Combine(folder.Path, "trials", id, "checkpoints", "final.ckpt")));

        var results = await SweepHost.RunAsync(plan, store, new LocalClusterTrialRunner(TimeSpan.FromSeconds(60)), slots: 2, "WARNING", CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(4, results.Trials.Count);
        Assert.All(results.Trials, t => Assert.Equal("completed", t.Status));
        Assert.All(kept, k => Assert.Equal(k.Value, results.Trials.Single(t => t.Id == k.Key).FinalMetric));
        Assert.All(checkpoints, c => Assert.Equal(c.Value, File.GetLastWriteTimeUtc(Path.Combine(folder.Path, "trials", c.Key, "checkpoints", "final.ckpt"))));
    }
}
