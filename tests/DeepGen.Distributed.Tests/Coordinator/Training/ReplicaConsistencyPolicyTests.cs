using DeepGen.Distributed.Coordinator.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Training;

public sealed class ReplicaConsistencyPolicyTests
{
    [Theory]
    [InlineData(new[] { "aa" }, true, new int[0])]
    [InlineData(new[] { "aa", "aa", "aa" }, true, new int[0])]
    [InlineData(new[] { "aa", "bb", "aa" }, false, new[] { 1 })]
    [InlineData(new[] { "bb", "aa", "aa", "aa" }, false, new[] { 0 })]
    [InlineData(new[] { "aa", "bb" }, false, new[] { 1 })]
    [InlineData(new[] { "aa", "bb", "cc" }, false, new[] { 1, 2 })]
    public void Check_flags_ranks_that_differ_from_majority(string[] checksums, bool consistent, int[] diverged)
    {
        var decision = ReplicaConsistencyPolicy.Check(checksums, step: 42);

        Assert.Equal(consistent, decision.Consistent);
        Assert.Equal(diverged, decision.DivergedRanks);
        Assert.Contains("step 42", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Divergence_reason_names_each_diverged_rank()
    {
        var decision = ReplicaConsistencyPolicy.Check(["0123456789abcdef", "fedcba9876543210", "0123456789abcdef"], step: 7);

        Assert.Contains("rank 1 has fedcba987654", decision.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("rank 0 has", decision.Reason, StringComparison.Ordinal);
    }
}
