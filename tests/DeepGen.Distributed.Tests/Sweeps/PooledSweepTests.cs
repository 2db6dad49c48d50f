using Akka.Actor;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Coordinator.Sweeps;
using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Coordinator.Sweeps.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Tests.Sweeps;

/// <summary>Sweeps whose trials run on the long-lived worker nodes of one cluster, through its worker pool.</summary>
public sealed class PooledSweepTests
{
    // 1,280 images / (1 worker × 64) = 20 steps per epoch, 3 epochs per trial, evaluated every 5 steps.
    private static readonly string Spec = $"""
        base:
          model: vae
          workers: 1
          epochs: 3
          batch_size: 64
          train_limit: 1280
          test_limit: 200
          eval_every: 5
          data: {FashionMnist.DefaultDirectory}
        parameters:
          lr:
            grid: [1.0e-3, 2.0e-3, 3.0e-3]
          beta:
            grid: [0.5, 1.0]
        objective:
          metric: test_neg_elbo
          mode: min
        budget:
          max_concurrent: 2
        """;

    [Fact]
    public async Task Lost_worker_slot_shrinks_capacity()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create(Spec);
        await using var cluster = await StartPoolAsync(2);
        var runner = PooledRunner(cluster);

        var sweep = SweepHost.RunAsync(SweepPlan.Parse(Spec), store, runner, slots: 2, "WARNING", CancellationToken.None, scheduler => cluster.Coordinator.Tell(new SubscribeSlotLoss(scheduler)));
        var slotOne = await cluster.Coordinator.Ask<PooledWorker>(new GetSlotWorker(1), TimeSpan.FromSeconds(10));
        for (var i = 0; i < 600 && (store.LoadState()?.Trials.Count(t => t.Curve.Count > 0) ?? 0) < 2; i++)
        {
            await Task.Delay(100);
        }

        // The worker serving slot 1 stops in the middle of its trial.
        var system = cluster.WorkerSystems.Single(s => s.Name == slotOne.Worker.Path.Address.System && Akka.Cluster.Cluster.Get(s).SelfAddress == slotOne.Worker.Path.Address);
        system.Stop(slotOne.Worker);
        var results = await sweep.WaitAsync(TimeSpan.FromMinutes(4));

        var decisions = File.ReadAllText(Path.Combine(folder.Path, SweepStore.DecisionsFileName));
        Assert.Contains("slot 1", decisions, StringComparison.Ordinal);
        Assert.Equal(6, results.Trials.Count);
        var failed = Assert.Single(results.Trials, t => t.Status == "failed");
        Assert.Equal(5, results.Trials.Count(t => t.Status == "completed"));
        Assert.NotEqual(failed.Id, results.BestTrialId);
        Assert.NotNull(results.BestTrialId);
    }

    [Fact]
    public async Task Pooled_trials_leave_workers_idle_for_the_next()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var store = new SweepStore(folder.Path);
        store.Create(Spec);
        await using var cluster = await StartPoolAsync(1);
        var runner = PooledRunner(cluster);

        var results = await SweepHost.RunAsync(SweepPlan.Parse(Spec), store, runner, slots: 1, "WARNING", CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(4));

        // Six trials ran one after another on the same worker node.
        Assert.All(results.Trials, t => Assert.Equal("completed", t.Status));
        Assert.All(results.Trials, t => Assert.InRange(t.FinalMetric!.Value, 100, 600));
    }

    /// <summary>Starts a coordinator node with a worker pool and <paramref name="slots"/> worker nodes, and waits until all registered.</summary>
    private static async Task<LocalCluster> StartPoolAsync(int slots)
    {
        var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING", heartbeatPause: TimeSpan.FromSeconds(20), coordinatorProps: WorkerPoolActor.Props(slots));
        cluster.StartWorkers(slots, "WARNING");
        await cluster.Coordinator.Ask<PoolReady>(new AwaitWorkers(slots), TimeSpan.FromSeconds(60));
        return cluster;
    }

    private static LocalClusterTrialRunner PooledRunner(LocalCluster cluster) =>
        new(TimeSpan.FromSeconds(60), "WARNING", launch => new PooledTrialNodes(cluster.CoordinatorSystem, cluster.Coordinator, launch));
}
