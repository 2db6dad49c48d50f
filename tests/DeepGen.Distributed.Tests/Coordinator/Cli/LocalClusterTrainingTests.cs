using System.Globalization;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Cli;

/// <summary>A coordinator and two workers as separate actor systems joined over loopback TCP.</summary>
public sealed class LocalClusterTrainingTests
{
    [Fact]
    public async Task Two_workers_train_fifty_steps_and_loss_falls()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var runDirectory = Path.Combine(folder.Path, "run");

        // 3,200 images / (2 workers × 32) = 50 steps in one epoch.
        var config = new TrainingConfig(Workers: 2, Epochs: 1, BatchSizePerWorker: 32, TrainLimit: 3200, TestLimit: 500, ChecksumEverySteps: 10, DataDirectory: FashionMnist.DefaultDirectory);
        var observer = new RecordingObserver();
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");

        var outcome = await cluster.RunAsync(new StartRun(config, runDirectory, observer, TimeSpan.FromSeconds(60)), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(4));

        var completed = Assert.IsType<RunCompleted>(outcome);
        Assert.Equal(50, completed.Steps);
        var steps = observer.Steps.ToList();
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), steps.Select(s => s.Step));
        var first = steps.Take(5).Average(s => s.Loss);
        var last = steps.TakeLast(5).Average(s => s.Loss);
        Assert.True(last < first - 20, $"loss went from {first:F2} to {last:F2} nats/image");
        Assert.All(steps, s => Assert.Equal(64, s.Samples));

        var metrics = File.ReadAllLines(Path.Combine(runDirectory, "metrics.csv"));
        Assert.Equal(51, metrics.Length);
        Assert.StartsWith("step,epoch,loss,reconstruction,kl,samples_per_second", metrics[0], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(runDirectory, "config.json")));
        Assert.True(File.Exists(Path.Combine(runDirectory, "checkpoints", "final.ckpt")));
        Assert.True(File.Exists(Path.Combine(runDirectory, "images", "reconstructions-epoch-001.png")));
        Assert.True(File.Exists(Path.Combine(runDirectory, "images", "samples-epoch-001.png")));
        var evaluation = File.ReadAllLines(Path.Combine(runDirectory, "evaluation.csv"));
        Assert.Equal(2, evaluation.Length);
        var negativeElbo = double.Parse(evaluation[1].Split(',')[2], CultureInfo.InvariantCulture);
        Assert.InRange(negativeElbo, 100, 543);
    }

    [Fact]
    public async Task Same_seed_reproduces_the_same_weights()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var config = new TrainingConfig(Workers: 2, Epochs: 1, BatchSizePerWorker: 32, TrainLimit: 1600, TestLimit: 200, Seed: 9, DataDirectory: FashionMnist.DefaultDirectory);
        var weights = new List<byte[]>();
        for (var run = 0; run < 2; run++)
        {
            var runDirectory = Path.Combine(folder.Path, $"run{run}");
            await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
            cluster.StartWorkers(2, "WARNING");
            var outcome = await cluster.RunAsync(new StartRun(config, runDirectory, new RecordingObserver(), TimeSpan.FromSeconds(60)), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(4));
            Assert.IsType<RunCompleted>(outcome);
            weights.Add(DeepGen.Distributed.Coordinator.Output.Checkpoint.Read(Path.Combine(runDirectory, "checkpoints", "final.ckpt")).Weights);
        }

        Assert.Equal(weights[0], weights[1]);
    }

    [Fact]
    public async Task Lost_worker_below_minimum_pauses()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var config = new TrainingConfig(Workers: 2, Epochs: 50, BatchSizePerWorker: 32, TrainLimit: 3200, TestLimit: 200, CollectiveTimeoutSeconds: 5, DataDirectory: FashionMnist.DefaultDirectory);
        var observer = new RecordingObserver();
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");

        var run = cluster.RunAsync(new StartRun(config, Path.Combine(folder.Path, "run"), observer, TimeSpan.FromSeconds(5)), CancellationToken.None);
        for (var i = 0; i < 600 && observer.Steps.Count < 20; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(observer.Steps.Count >= 20, "the run never reached step 20");
        await cluster.WorkerSystems[1].Terminate();

        var outcome = await run.WaitAsync(TimeSpan.FromSeconds(60));
        var failed = Assert.IsType<RunFailed>(outcome);
        Assert.Contains("paused below --min-workers 2", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("deepgen train --resume", failed.Reason, StringComparison.Ordinal);
        Assert.Contains(observer.Messages, m => m.Contains("below --min-workers 2", StringComparison.Ordinal));
    }
}
