using System.Globalization;
using DeepGen.Distributed.Coordinator.Sweeps.Scheduling;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Tests.Sweeps;

/// <summary>The promotion form of ASHA on scripted rung values; the expected promotions are worked out by hand in the comments.</summary>
public sealed class AshaPromotionPolicyTests
{
    private static readonly SweepObjective Minimise = new("test_neg_elbo", ObjectiveMode.Min);

    private static string? Next(AshaPromotionPolicy policy, Func<string, bool>? canResume = null)
    {
        if (policy.FindPromotion(canResume ?? (_ => true)) is not { } promotion)
        {
            return null;
        }

        policy.MarkPromoted(promotion.TrialId, promotion.Rung);
        var target = promotion.Target?.ToString(CultureInfo.InvariantCulture) ?? "max";
        return $"{promotion.TrialId}@{promotion.Rung}->{target}";
    }

    [Fact]
    public void Promotions_match_hand_computed_ranks()
    {
        // η = 2, rungs at 10 and 20 steps. A rung with n values promotes its best ⌊n/2⌋.
        var policy = new AshaPromotionPolicy([10, 20], 2, Minimise);

        // Rung 10: a 5 → n 1, cut 0: nothing to promote.
        policy.Record("a", 10, 5);
        Assert.Null(Next(policy));

        // b 3 → ranks b 3, a 5; cut 1: b goes to rung 20. Then b is promoted and the cut is full.
        policy.Record("b", 10, 3);
        Assert.Equal("b@10->20", Next(policy));
        Assert.Null(Next(policy));

        // c 4 → n 3, cut 1, still only b.
        policy.Record("c", 10, 4);
        Assert.Null(Next(policy));

        // d 1 → ranks d 1, b 3, c 4, a 5; cut 2: d is the best one not promoted.
        policy.Record("d", 10, 1);
        Assert.Equal("d@10->20", Next(policy));

        // e 0.5 → ranks e 0.5, d 1, b 3, c 4, a 5; cut 2: e is promoted, and b drops out of the
        // cut but stays promoted.
        policy.Record("e", 10, 0.5);
        Assert.Equal("e@10->20", Next(policy));
        Assert.Null(Next(policy));

        // Rung 20 is the top rung: b 2 → n 1, cut 0. f 0.1 at rung 10 → n 6, cut 3: f, e, d, and
        // only f is not promoted yet.
        policy.Record("b", 20, 2);
        policy.Record("f", 10, 0.1);

        // d 1.5 at rung 20 → ranks d 1.5, b 2; cut 1: d goes to max_resource. The top rung is looked
        // at first, so d is promoted before f of rung 10.
        policy.Record("d", 20, 1.5);
        Assert.Equal("d@20->max", Next(policy));
        Assert.Equal("f@10->20", Next(policy));
        Assert.Null(Next(policy));
    }

    [Fact]
    public void Trials_still_stopping_are_passed_over()
    {
        // η = 2, one rung. Ranks: a 1, b 2, c 3, d 4; cut 2.
        var policy = new AshaPromotionPolicy([10], 2, Minimise);
        foreach (var (trial, value) in new[] { ("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0) })
        {
            policy.Record(trial, 10, value);
        }

        // a is still stopping, so b, the next in the cut, is promoted; c is outside the cut.
        Assert.Equal("b@10->max", Next(policy, id => id != "a"));
        Assert.Null(Next(policy, id => id != "a"));
        Assert.Equal("a@10->max", Next(policy));
        Assert.Null(Next(policy));
    }

    [Fact]
    public void Maximised_metric_promotes_largest()
    {
        var policy = new AshaPromotionPolicy([1], 2, new SweepObjective("test_accuracy", ObjectiveMode.Max));
        policy.Record("a", 1, 0.7);
        policy.Record("b", 1, 0.9);

        Assert.Equal("b@1->max", Next(policy));
    }

    [Fact]
    public void Ties_favour_trial_recorded_first()
    {
        var policy = new AshaPromotionPolicy([1], 2, Minimise);
        policy.Record("a", 1, 5);
        policy.Record("b", 1, 5);

        Assert.Equal("a@1->max", Next(policy));
        Assert.Contains("ranks 2 of 2", policy.Describe("b", 1), StringComparison.Ordinal);
    }

    [Fact]
    public void Restored_promotions_are_not_repeated()
    {
        // Before the restart: a 1 and b 2 at rung 10, a promoted, and a 3 at rung 20.
        var policy = new AshaPromotionPolicy([10, 20], 2, Minimise);
        policy.Restore("a", 10, 1, promoted: true);
        policy.Restore("b", 10, 2, promoted: false);
        policy.Restore("a", 20, 3, promoted: false);

        // Rung 20: n 1, cut 0. Rung 10: cut 1, and a was promoted already.
        Assert.Null(Next(policy));

        // c 0.5 at rung 10 → n 3, cut 1: the cut contains only c, so c is promoted.
        policy.Record("c", 10, 0.5);
        Assert.Equal("c@10->20", Next(policy));
    }

    [Fact]
    public void Pause_rung_follows_rungs_reached()
    {
        var policy = new AshaPromotionPolicy([10, 20], 2, Minimise);

        Assert.Equal(10, policy.PauseRung(0));
        Assert.Equal(20, policy.PauseRung(1));
        Assert.Null(policy.PauseRung(2));
    }

    [Theory]
    // 8 trials, η = 2, rungs 120, 240, 480: at least 8 → 4 → 2 → 1, so one trial completes.
    [InlineData(8, 2, new long[] { 120, 240, 480 }, 1)]
    // 8 trials, η = 3, rungs 35, 105, 315: 8 → 2 → 0, so no trial is sure to complete.
    [InlineData(8, 3, new long[] { 35, 105, 315 }, 0)]
    [InlineData(9, 3, new long[] { 1 }, 3)]
    public void Completing_trials_bound_shrinks_by_eta(int trials, int eta, long[] rungs, int expected)
    {
        Assert.Equal(expected, new AshaPromotionPolicy(rungs, eta, Minimise).CompletingTrials(trials));
    }

    [Fact]
    public void Recording_at_unknown_rung_throws()
    {
        var policy = new AshaPromotionPolicy([10], 2, Minimise);

        Assert.Throws<ArgumentOutOfRangeException>(() => policy.Record("a", 15, 1));
    }
}
