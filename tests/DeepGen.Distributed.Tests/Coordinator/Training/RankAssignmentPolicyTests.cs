using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Tests.Coordinator.Training;

public sealed class RankAssignmentPolicyTests
{
    [Theory]
    [InlineData(0, 2, false, 0)]
    [InlineData(1, 2, false, 0)]
    [InlineData(2, 2, true, 2)]
    [InlineData(3, 2, true, 2)]
    [InlineData(1, 1, true, 1)]
    public void Assign_waits_until_enough_workers(int registered, int worldSize, bool ready, int ranks)
    {
        var decision = RankAssignmentPolicy.Assign(Workers(registered), worldSize);

        Assert.Equal(ready, decision.Ready);
        Assert.Equal(ranks, decision.Ranks.Count);
    }

    [Fact]
    public void Ranks_follow_registration_order()
    {
        var workers = Workers(3);

        var decision = RankAssignmentPolicy.Assign(workers, 2);

        Assert.Equal(workers[0], decision.Ranks[0]);
        Assert.Equal(workers[1], decision.Ranks[1]);
        Assert.Contains("1 spare worker(s) stay idle", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Shared_data_plane_endpoint_is_not_assigned()
    {
        var same = new DataPlaneEndpoint("127.0.0.1", 5000);
        var workers = new List<RegisteredWorker>
        {
            new("a", new RegisterWorker("w0", "host", same, "cpu")),
            new("b", new RegisterWorker("w1", "host", same, "cpu")),
        };

        var decision = RankAssignmentPolicy.Assign(workers, 2);

        Assert.False(decision.Ready);
        Assert.Contains("127.0.0.1:5000", decision.Reason, StringComparison.Ordinal);
    }

    private static List<RegisteredWorker> Workers(int count) =>
        Enumerable.Range(0, count)
            .Select(i => new RegisteredWorker($"akka.tcp://deepgen@127.0.0.1:{4000 + i}/user/worker", new RegisterWorker($"w{i}", "host", new DataPlaneEndpoint("127.0.0.1", 5000 + i), "cpu")))
            .ToList();
}
