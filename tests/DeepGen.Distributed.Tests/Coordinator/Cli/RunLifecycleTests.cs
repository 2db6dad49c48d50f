using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Cli;

/// <summary>Evaluation during training and a diverging run, on a coordinator and two workers over loopback.</summary>
public sealed class RunLifecycleTests
{
    [Fact]
    public async Task Evaluation_runs_while_training_advances()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var runDirectory = Path.Combine(folder.Path, "run");

        // 6,400 images / (2 × 32) = 100 steps; a snapshot every 20 steps is scored on the whole test set.
        var config = new TrainingConfig(Workers: 2, Epochs: 1, BatchSizePerWorker: 32, TrainLimit: 6400, EvaluateEverySteps: 20, DataDirectory: FashionMnist.DefaultDirectory);
        var observer = new TimelineObserver();
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");

        var outcome = await cluster.RunAsync(new StartRun(config, runDirectory, observer, TimeSpan.FromSeconds(60)), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(4));

        Assert.IsType<RunCompleted>(outcome);
        var rows = File.ReadAllLines(Path.Combine(runDirectory, "evaluation.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(["20", "40", "60", "80", "100"], rows.Select(r => r[1]));
        Assert.All(rows, r => Assert.InRange(double.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture), 100, 560));

        // When the evaluation of an early snapshot arrived, rank 0 had already reported later steps.
        var first = observer.Evaluations.First(e => !e.Evaluation.EpochEnd);
        Assert.True(first.LatestStepWhenReceived > first.Evaluation.Step, $"no step after {first.Evaluation.Step} was reported while it was evaluated");
    }

    [Fact]
    public async Task Diverging_run_stops_and_keeps_last_good_checkpoint()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var runDirectory = Path.Combine(folder.Path, "run");

        // 3,200 images / (2 × 32) = 50 steps per epoch; step 60 is in epoch 2.
        var config = new TrainingConfig(Workers: 2, Epochs: 3, BatchSizePerWorker: 32, TrainLimit: 3200, TestLimit: 200, InjectNanAtStep: 60, DataDirectory: FashionMnist.DefaultDirectory);
        var observer = new RecordingObserver();
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");

        var outcome = await cluster.RunAsync(new StartRun(config, runDirectory, observer, TimeSpan.FromSeconds(60)), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(4));

        var failed = Assert.IsType<RunFailed>(outcome);
        Assert.Contains("NaN at step 60", failed.Reason, StringComparison.Ordinal);
        var checkpoints = Path.Combine(runDirectory, "checkpoints");
        var kept = Checkpoint.Read(Path.Combine(checkpoints, "epoch-001.ckpt"));
        Assert.Equal(50, kept.Step);
        Assert.True(ParameterCodec.AllFinite(kept.Weights));
        Assert.False(File.Exists(Path.Combine(checkpoints, "epoch-002.ckpt")));
        Assert.False(File.Exists(Path.Combine(checkpoints, "final.ckpt")));
        Assert.Equal(59, observer.Steps.Max(s => s.Step));
    }

    [Fact]
    public async Task Failed_evaluations_do_not_end_training()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var runDirectory = Path.Combine(folder.Path, "run");

        // One test image cannot give a Fréchet distance, so every evaluation fails; training must
        // still run all 10 steps and write its checkpoint.
        var config = new TrainingConfig(
            Model: "gan", GanArchitecture: "mlp", Workers: 2, Epochs: 1, BatchSizePerWorker: 32, TrainLimit: 640, TestLimit: 1, EvaluateEverySteps: 2,
            FidClassifier: Path.Combine(ProcessRunner.RepositoryRoot, "models", "fashion-mnist-classifier.ckpt"), DataDirectory: FashionMnist.DefaultDirectory);
        var observer = new RecordingObserver();
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");

        var outcome = await cluster.RunAsync(new StartRun(config, runDirectory, observer, TimeSpan.FromSeconds(60)), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(4));

        var completed = Assert.IsType<RunCompleted>(outcome);
        Assert.Equal(10, completed.Steps);
        Assert.Null(completed.FinalEvaluation);
        Assert.True(File.Exists(Path.Combine(runDirectory, "checkpoints", "final.ckpt")));
        Assert.Contains(observer.Messages, m => m.Contains("evaluation of epoch 1 failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Classifier_run_writes_cam_reports_while_training()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var runDirectory = Path.Combine(folder.Path, "run");

        // 1,280 images / (2 × 32) = 20 steps; reports after steps 10 and 20.
        var config = new TrainingConfig(Model: "classifier", Workers: 2, Epochs: 1, BatchSizePerWorker: 32, TrainLimit: 1280, TestLimit: 300, EvaluateEverySteps: 10, DataDirectory: FashionMnist.DefaultDirectory);
        var observer = new RecordingObserver();
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");

        var outcome = await cluster.RunAsync(new StartRun(config, runDirectory, observer, TimeSpan.FromSeconds(60)), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(4));

        Assert.IsType<RunCompleted>(outcome);
        using var index = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(runDirectory, "cam", "index.json")));
        var steps = index.RootElement.EnumerateArray().Select(r => r.GetProperty("step").GetInt64()).Order().ToList();
        Assert.Equal([10L, 20L], steps);
        Assert.True(File.Exists(Path.Combine(runDirectory, "cam", "step-000020", "report.html")));
        Assert.True(File.Exists(Path.Combine(runDirectory, "cam", "step-000020", "index.json")));
        Assert.Equal(20, observer.Steps.Count);
    }

    private sealed class TimelineObserver : IRunObserver
    {
        private long _latestStep;

        public List<(EpochEvaluation Evaluation, long LatestStepWhenReceived)> Evaluations { get; } = [];

        public void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch)
        {
        }

        public void StepCompleted(StepCompleted report, double samplesPerSecond) => _latestStep = Math.Max(_latestStep, report.Step);

        public void EpochEvaluated(EpochEvaluation evaluation) => Evaluations.Add((evaluation, _latestStep));

        public void Log(string message)
        {
        }
    }
}
