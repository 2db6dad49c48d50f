using DeepGen.Distributed.Coordinator.Sweeps.Scheduling;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Tests.Sweeps;

/// <summary>ASHA on scripted metric sequences; the expected decisions are worked out by hand in the comments.</summary>
public sealed class AshaPolicyTests
{
    private static readonly SweepObjective Minimise = new("test_neg_elbo", ObjectiveMode.Min);

    [Fact]
    public void Rungs_lie_at_grace_times_powers_of_eta()
    {
        Assert.Equal([1L, 3L, 9L], new SweepScheduler(SchedulerKind.Asha, ResourceUnit.Epochs, 1, 3, 27).Rungs());
        Assert.Equal([10L, 20L, 40L], new SweepScheduler(SchedulerKind.Asha, ResourceUnit.Steps, 10, 2, 80).Rungs());
        Assert.Empty(new SweepScheduler(SchedulerKind.Fifo, ResourceUnit.Epochs, 1, 2, 8).Rungs());
    }

    [Theory]
    // η = 2, rung at epoch 1. Arrivals in order, value → (n, ⌈n/2⌉, rank) → decision:
    // a 300 → (1, 1, 1) continue; b 310 → (2, 1, 2) stop; c 290 → (3, 2, 1) continue;
    // d 305 → (4, 2, 3) stop; e 300 → (5, 3, 2: only c is strictly better) continue.
    [InlineData("a:300 b:310 c:290 d:305 e:300", "a+ b- c+ d- e+")]
    // η = 2, a later arrival that ties the best continues; the worst of six stops.
    [InlineData("a:5 b:5 c:5 d:9 e:1 f:9", "a+ b+ c+ d- e+ f-")]
    public void Single_rung_decisions_match_hand_computed_ranks(string arrivals, string expected)
    {
        var policy = new AshaPolicy([1], 2, Minimise);

        var decisions = arrivals.Split(' ').Select(a => a.Split(':')).Select(a => Assert.Single(policy.Report(a[0], 1, double.Parse(a[1], System.Globalization.CultureInfo.InvariantCulture))));

        Assert.Equal(expected, string.Join(' ', decisions.Select(d => d.TrialId + (d.Continue ? "+" : "-"))));
    }

    [Fact]
    public void Trials_climb_rungs_until_cut()
    {
        // η = 3, rungs at 1 and 3 epochs, max 9. Values per trial and epoch (lower is better).
        var policy = new AshaPolicy([1, 3], 3, Minimise);
        var log = new List<string>();
        void Report(string trial, long epoch, double value) =>
            log.AddRange(policy.Report(trial, epoch, value).Select(d => $"{d.TrialId}@{d.Rung}{(d.Continue ? "+" : "-")}"));

        Report("t0", 1, 200); // rung 1: n=1, keep 1, rank 1 → continue
        Report("t1", 1, 180); // rung 1: n=2, keep 1, rank 1 → continue
        Report("t2", 1, 220); // rung 1: n=3, keep 1, rank 3 → stop
        Report("t0", 2, 190); // between rungs: no decision
        Report("t0", 3, 170); // rung 3: n=1 → continue
        Report("t3", 1, 190); // rung 1: n=4, keep 2, rank 2 (t1 is better) → continue
        Report("t1", 3, 175); // rung 3: n=2, keep 1, rank 2 (t0 170) → stop
        Report("t1", 4, 100); // already stopped: ignored
        Report("t3", 3, 160); // rung 3: n=3, keep 1, rank 1 → continue
        Report("t0", 9, 150); // past the last rung: no decision

        Assert.Equal(["t0@1+", "t1@1+", "t2@1-", "t0@3+", "t3@1+", "t1@3-", "t3@3+"], log);
    }

    [Fact]
    public void Report_past_several_rungs_decides_each()
    {
        // A steps-based trial whose first evaluation lands after two rungs decides both with one value.
        var policy = new AshaPolicy([10, 20, 40], 2, Minimise);

        var decisions = policy.Report("t0", 25, 300);

        Assert.Equal([10L, 20L], decisions.Select(d => d.Rung));
        Assert.All(decisions, d => Assert.True(d.Continue));
        Assert.Contains("ranks 1 of 1 at rung 20", decisions[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Maximised_metric_keeps_larger_values()
    {
        var policy = new AshaPolicy([1], 2, new SweepObjective("test_accuracy", ObjectiveMode.Max));

        Assert.True(Assert.Single(policy.Report("a", 1, 0.80)).Continue);
        Assert.True(Assert.Single(policy.Report("b", 1, 0.90)).Continue);
        Assert.False(Assert.Single(policy.Report("c", 1, 0.70)).Continue);
    }

    [Fact]
    public void Restored_values_raise_the_bar_after_a_restart()
    {
        var policy = new AshaPolicy([1], 2, Minimise);
        policy.Restore("a", 1, 100, continued: true);
        policy.Restore("b", 1, 120, continued: false);

        // n = 3, keep 2; 130 ranks 3 → stop. Restored trials decide nothing again.
        Assert.False(Assert.Single(policy.Report("c", 1, 130)).Continue);
        Assert.Empty(policy.Report("a", 1, 100));
        Assert.Empty(policy.Report("b", 2, 90));
    }

    [Fact]
    public void Fifo_never_stops()
    {
        Assert.Empty(new FifoPolicy().Report("a", 1, double.MaxValue));
    }
}
