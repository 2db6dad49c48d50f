using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Tests.Coordinator.Training;

public sealed class RegroupPolicyTests
{
    private static readonly TrainingPosition GenerationStart = new(100, 3, 1280);

    [Fact]
    public void Most_advanced_survivor_is_source()
    {
        // Rank 1 finished the all-reduce of step 120 before the peer died; rank 2 did not.
        var survivors = new[] { Stopped("w1", rank: 1, step: 120, position: 2560), Stopped("w2", rank: 2, step: 119, position: 2496) };

        var decision = RegroupPolicy.Decide(survivors, GenerationStart, [], maxWorkers: 3, minWorkers: 2);

        Assert.False(decision.Pause);
        Assert.Equal("w1", decision.Source!.Registration.WorkerId);
        Assert.Equal(new TrainingPosition(120, 3, 2560), decision.Resume);
        Assert.Equal(["w1", "w2"], decision.Members.Select(m => m.Registration.WorkerId));
        Assert.Contains("1 survivor(s) one step behind", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Inconsistent_replica_never_source()
    {
        var survivors = new[] { Stopped("w0", rank: 0, step: 121, position: 2624, consistent: false), Stopped("w2", rank: 2, step: 120, position: 2560) };

        var decision = RegroupPolicy.Decide(survivors, GenerationStart, [], maxWorkers: 3, minWorkers: 1);

        Assert.Equal("w2", decision.Source!.Registration.WorkerId);
        Assert.Equal(120, decision.Resume.Step);
        Assert.Equal(2, decision.Members.Count);
    }

    [Fact]
    public void Idle_member_is_at_generation_start()
    {
        var survivors = new[] { Stopped("w0", rank: 0, step: -1, position: 0) };

        var decision = RegroupPolicy.Decide(survivors, GenerationStart, [], maxWorkers: 2, minWorkers: 1);

        Assert.Equal(GenerationStart, decision.Resume);
    }

    [Fact]
    public void Free_workers_fill_world_size()
    {
        var survivors = new[] { Stopped("w3", rank: 1, step: 120, position: 2560), Stopped("w1", rank: 0, step: 120, position: 2560) };

        var decision = RegroupPolicy.Decide(survivors, GenerationStart, [Worker("w7"), Worker("w8")], maxWorkers: 3, minWorkers: 2);

        Assert.Equal(["w1", "w3", "w7"], decision.Members.Select(m => m.Registration.WorkerId));
        Assert.Equal("w1", decision.Source!.Registration.WorkerId);
        Assert.Contains("1 worker(s) join: w7", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Fewer_workers_than_the_minimum_pause_the_run()
    {
        var decision = RegroupPolicy.Decide([Stopped("w1", rank: 1, step: 120, position: 2560)], GenerationStart, [], maxWorkers: 3, minWorkers: 2);

        Assert.True(decision.Pause);
        Assert.Contains("below --min-workers 2", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(120, decision.Resume.Step);
    }

    [Fact]
    public void No_consistent_survivor_gives_no_source()
    {
        var decision = RegroupPolicy.Decide([Stopped("w1", rank: 1, step: 120, position: 2560, consistent: false)], GenerationStart, [], maxWorkers: 3, minWorkers: 1);

        Assert.Null(decision.Source);
        Assert.Contains("none of the 1 surviving replicas", decision.Reason, StringComparison.Ordinal);
    }

    private static (RegisteredWorker, RingStopped) Stopped(string id, int rank, long step, long position, bool consistent = true) =>
        (Worker(id), new RingStopped("run", rank, 4, step, 3, position, consistent));

    private static RegisteredWorker Worker(string id) =>
        new($"akka://deepgen/user/{id}", new RegisterWorker(id, "host", new DataPlaneEndpoint("127.0.0.1", 5000 + id[^1]), "cpu"));
}
