using DeepGen.Distributed.Coordinator.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Training;

public sealed class StragglerPolicyTests
{
    [Theory]
    [InlineData(new[] { 0.1, 0.1, 0.1, 0.5 }, 1.5, 3)]
    [InlineData(new[] { 0.1, 0.1, 0.1, 0.14 }, 1.5, -1)]
    [InlineData(new[] { 0.1, 0.1, 0.1, 0.15 }, 1.5, -1)]
    [InlineData(new[] { 0.1, 0.35 }, 1.5, 1)]
    [InlineData(new[] { 0.1, 0.25 }, 1.5, -1)]
    [InlineData(new[] { 0.9, 0.1, 0.1 }, 2.0, 0)]
    [InlineData(new[] { 0.2 }, 1.5, -1)]
    public void Single_step_flags_rank_over_median(double[] seconds, double factor, int expectedRank)
    {
        var policy = new StragglerPolicy(factor, consecutiveSteps: 1);

        var decision = policy.Observe(7, seconds);

        var expected = expectedRank < 0 ? Array.Empty<int>() : [expectedRank];
        Assert.Equal(expected, decision.Stragglers);
        Assert.Equal(expected, decision.NewWarnings.Select(w => w.Rank));
    }

    [Fact]
    public void Warning_needs_consecutive_slow_steps()
    {
        var policy = new StragglerPolicy(1.5, consecutiveSteps: 3);
        double[] slow = [0.1, 0.1, 0.4];
        double[] normal = [0.1, 0.1, 0.1];

        Assert.Empty(policy.Observe(1, slow).Stragglers);
        Assert.Empty(policy.Observe(2, slow).Stragglers);
        Assert.Empty(policy.Observe(3, normal).Stragglers);
        Assert.Empty(policy.Observe(4, slow).Stragglers);
        Assert.Empty(policy.Observe(5, slow).Stragglers);
        var third = policy.Observe(6, slow);

        Assert.Equal([2], third.Stragglers);
        var warning = Assert.Single(third.NewWarnings);
        Assert.Equal(2, warning.Rank);
        Assert.Equal(6, warning.Step);
        Assert.Equal(3, warning.ConsecutiveSteps);
        Assert.Equal(0.1, warning.MedianSeconds, 12);
        Assert.Equal(4.0, warning.Ratio, 12);
    }

    [Fact]
    public void Warning_repeats_only_after_recovery()
    {
        var policy = new StragglerPolicy(1.5, consecutiveSteps: 2);
        double[] slow = [0.1, 0.1, 0.4];
        double[] normal = [0.1, 0.1, 0.1];

        var warnings = new List<int>();
        var flagged = new List<bool>();
        foreach (var (step, seconds) in new[] { slow, slow, slow, slow, normal, slow, slow }.Select((s, i) => ((long)i + 1, s)))
        {
            var decision = policy.Observe(step, seconds);
            warnings.AddRange(decision.NewWarnings.Select(w => (int)w.Step));
            flagged.Add(decision.Stragglers.Contains(2));
        }

        Assert.Equal([2, 7], warnings);
        Assert.Equal([false, true, true, true, false, false, true], flagged);
    }

    [Fact]
    public void Two_slow_ranks_are_both_flagged()
    {
        var policy = new StragglerPolicy(1.5, consecutiveSteps: 1);

        var decision = policy.Observe(1, [0.5, 0.1, 0.1, 0.1, 0.6]);

        Assert.Equal([0, 4], decision.Stragglers);
    }

    [Theory]
    [InlineData(1.0, 3)]
    [InlineData(0.5, 3)]
    [InlineData(double.NaN, 3)]
    [InlineData(double.PositiveInfinity, 3)]
    [InlineData(1.5, 0)]
    public void Invalid_settings_are_rejected(double factor, int steps)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StragglerPolicy(factor, steps));
    }
}
