using DeepGen.Distributed.Cluster;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Tests.Coordinator.Training;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Cli;

/// <summary>Membership changes inside one epoch, with worker nodes that are actor systems of this process.</summary>
public sealed class ElasticLocalClusterTests
{
    [Fact]
    public async Task Worker_joins_mid_epoch()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var runDirectory = Path.Combine(folder.Path, "run");
        // One epoch only, so the ring can grow only in the middle of it: 19,200 images / (2 × 16) = 600 steps.
        var config = new TrainingConfig(Workers: 3, MinWorkers: 2, Epochs: 1, BatchSizePerWorker: 16, TrainLimit: 19200, TestLimit: 200, DataDirectory: FashionMnist.DefaultDirectory);
        var observer = new RecordingObserver();
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");

        var run = cluster.RunAsync(new StartRun(config, runDirectory, observer, TimeSpan.FromSeconds(60)), CancellationToken.None);
        for (var i = 0; i < 600 && observer.Steps.Count < 20; i++)
        {
            await Task.Delay(100);
        }

        cluster.StartWorkers(1, "WARNING");
        var outcome = await run.WaitAsync(TimeSpan.FromMinutes(4));

        Assert.IsType<RunCompleted>(outcome);
        var rows = MetricsRow.Read(runDirectory);
        Assert.Equal(Enumerable.Range(1, rows.Count).Select(i => (long)i), rows.Select(r => r.Step));
        Assert.Equal(19200, rows.Sum(r => r.GlobalBatch));
        Assert.Equal(2, rows[0].WorldSize);
        Assert.Equal(3, rows[^1].WorldSize);
        Assert.Contains(observer.Messages, m => m.Contains("grows from 2 at the next iteration boundary", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lost_worker_above_minimum_continues()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var runDirectory = Path.Combine(folder.Path, "run");
        // 14,400 images / (3 × 16) = 300 steps per epoch, 450 with 2 workers: the loss at step 20 lands well before the end.
        var config = new TrainingConfig(Workers: 3, MinWorkers: 1, Epochs: 2, BatchSizePerWorker: 16, TrainLimit: 14400, TestLimit: 200, DataDirectory: FashionMnist.DefaultDirectory);
        var observer = new RecordingObserver();
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(3, "WARNING");

        var run = cluster.RunAsync(new StartRun(config, runDirectory, observer, TimeSpan.FromSeconds(60)), CancellationToken.None);
        for (var i = 0; i < 600 && observer.Steps.Count < 20; i++)
        {
            await Task.Delay(100);
        }

        // Stopping the worker actor closes its ring at once; leaving the cluster gracefully could take
        // longer than the rest of the run.
        var lost = await cluster.WorkerSystems[2].ActorSelection("/user/" + ClusterRoles.WorkerActorName).ResolveOne(TimeSpan.FromSeconds(10));
        cluster.WorkerSystems[2].Stop(lost);
        var outcome = await run.WaitAsync(TimeSpan.FromMinutes(4));

        Assert.IsType<RunCompleted>(outcome);
        var rows = MetricsRow.Read(runDirectory);
        Assert.Equal(Enumerable.Range(1, rows.Count).Select(i => (long)i), rows.Select(r => r.Step));
        Assert.All(rows.GroupBy(r => r.Epoch), epoch => Assert.Equal(14400, epoch.Sum(r => r.GlobalBatch)));
        Assert.Equal(2, rows[^1].WorldSize);
        Assert.Contains(observer.Messages, m => m.Contains("regrouping: rank", StringComparison.Ordinal));
    }
}
