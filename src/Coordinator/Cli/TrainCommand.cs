using System.CommandLine;
using System.Globalization;
using DeepGen.Distributed.Cluster;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Dashboard;
using DeepGen.Distributed.Coordinator.Monitoring;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Coordinator.Cli;

/// <summary><c>deepgen train</c>: trains a model data-parallel and writes a run folder.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new TrainingConfig();
        var model = new Option<string>("--model") { Description = "Model family to train: vae, autoencoder, gan or classifier.", DefaultValueFactory = _ => defaults.Model };
        var ganArchitecture = new Option<string>("--gan-architecture") { Description = "GAN networks: dcgan (with BatchNorm) or mlp.", DefaultValueFactory = _ => defaults.GanArchitecture };
        var lrDiscriminator = new Option<double>("--lr-discriminator") { Description = "GAN discriminator learning rate α_D (0 = 0.0002)." };
        var lrGenerator = new Option<double>("--lr-generator") { Description = "GAN generator learning rate α_G (0 = 0.0002)." };
        var discriminatorSteps = new Option<int>("--d-steps") { Description = "GAN discriminator steps per generator step.", DefaultValueFactory = _ => defaults.DiscriminatorSteps };
        var evaluateEvery = new Option<int>("--eval-every") { Description = "Also evaluate a snapshot every N steps while training goes on (0 = epoch ends only)." };
        var fidClassifier = new Option<string>("--fid-classifier") { Description = "Classifier checkpoint (from --model classifier) whose features the GAN's Fréchet distance uses.", DefaultValueFactory = _ => defaults.FidClassifier };
        var schedule = new Option<string>("--lr-schedule") { Description = "Learning-rate schedule: constant, or cosine decay towards 0 over the run.", DefaultValueFactory = _ => defaults.LearningRateSchedule };
        var deletion = new Option<double>("--deletion-augmentation") { Description = "Classifier: share of training images (0 to 1) in which up to half of the pixels are replaced with the dataset mean." };
        var injectNan = new Option<long>("--inject-nan-at-step") { Description = "Fault injection for recovery drills: make the loss NaN at this step (0 = never)." };
        var workers = new Option<int>("--workers") { Description = "Number of data-parallel workers (world size)." }.FromEnvironment(defaults.Workers);
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training set.", DefaultValueFactory = _ => defaults.Epochs };
        var batch = new Option<int>("--batch-size") { Description = "Images per worker per step; the global batch is this times --workers.", DefaultValueFactory = _ => defaults.BatchSizePerWorker };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var optimizer = new Option<string>("--optimizer") { Description = "adam or sgd.", DefaultValueFactory = _ => defaults.Optimizer };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights, the data order and the VAE noise.", DefaultValueFactory = _ => defaults.Seed };
        var hidden = new Option<int>("--hidden-size") { Description = "VAE hidden layer width.", DefaultValueFactory = _ => defaults.HiddenSize };
        var latent = new Option<int>("--latent-size") { Description = "VAE latent dimension.", DefaultValueFactory = _ => defaults.LatentSize };
        var beta = new Option<double>("--beta") { Description = "Weight β of the KL term (1 = the ELBO).", DefaultValueFactory = _ => defaults.Beta };
        var weightDecay = new Option<double>("--weight-decay") { Description = "L2 coefficient λ of λΣ‖w‖² over weight matrices.", DefaultValueFactory = _ => defaults.WeightDecay };
        var data = new Option<string>("--data") { Description = "Folder with the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, ...); every worker reads the same path." }.FromEnvironment(FashionMnist.DefaultDirectory);
        var output = new Option<string?>("--output") { Description = "Run folder to create; default runs/<model>-<UTC time>." }.FromEnvironment(null);
        var trainLimit = new Option<int>("--train-limit") { Description = "Use only the first N training images (0 = all 60,000)." };
        var testLimit = new Option<int>("--test-limit") { Description = "Use only the first N test images (0 = all 10,000)." };
        var threads = new Option<int>("--threads") { Description = "libtorch threads per worker.", DefaultValueFactory = _ => defaults.ThreadsPerWorker };
        var collectiveTimeout = new Option<double>("--collective-timeout") { Description = "Seconds an all-reduce waits for a peer before the run fails.", DefaultValueFactory = _ => defaults.CollectiveTimeoutSeconds };
        var checksumEvery = new Option<int>("--checksum-every") { Description = "Compare replica checksums every N steps (0 = at epoch ends only)." };
        var wire = new Option<string>("--wire-format") { Description = "Gradient format on the data plane: fp32 (exact), fp16 or bf16 (half the bytes, rounded).", DefaultValueFactory = _ => defaults.WireFormat };
        var minWorkers = new Option<int>("--min-workers") { Description = "Smallest world size to train with: the run starts with this many workers and pauses when fewer remain (0 = --workers)." }.FromEnvironment(0);
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also write a checkpoint every N steps (0 = at epoch ends only)." }.FromEnvironment(defaults.CheckpointEverySteps);
        var keepCheckpoints = new Option<int>("--keep-checkpoints") { Description = "Step and epoch checkpoints to keep; older ones are deleted (final.ckpt is always kept)." }.FromEnvironment(defaults.KeepCheckpoints);
        var killAtStep = new Option<long>("--kill-at-step") { Description = "Recovery drill: SIGKILL this process, coordinator and embedded workers, once this step is in metrics.csv (0 = never); then continue with --resume." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its newest valid checkpoint, with that checkpoint's settings (model options given here are ignored)." };
        var external = new Option<bool>("--external-workers") { Description = "Start no workers in this process; wait for deepgen-worker processes to join." }.FromEnvironment(false);
        var host = new Option<string>("--host") { Description = "Address the coordinator node advertises, and binds unless --bind-host is given; workers use it in their seed-node address." }.FromEnvironment("127.0.0.1");
        var bindHost = new Option<string?>("--bind-host") { Description = "Address to bind when it differs from --host, for example 0.0.0.0 in a container whose --host is a DNS name." }.FromEnvironment(null);
        var port = new Option<int>("--port") { Description = "Akka.Remote port of the coordinator (0 = any free port; give a fixed one with --external-workers)." }.FromEnvironment(0);
        var waitTimeout = new Option<double>("--worker-wait-timeout") { Description = "Seconds to wait for --workers workers to register." }.FromEnvironment(120);
        var logLevel = new Option<string>("--log-level") { Description = "Akka log level: DEBUG, INFO, WARNING or ERROR." }.FromEnvironment("WARNING");
        var monitoring = new MonitoringOptions();

        var command = new Command("train", "Train a model data-parallel on Fashion-MNIST across workers.")
        {
            model, ganArchitecture, lrDiscriminator, lrGenerator, discriminatorSteps, evaluateEvery, fidClassifier, injectNan, schedule, deletion, workers, epochs, batch, lr, optimizer, seed, hidden, latent, beta, weightDecay, data, output, trainLimit, testLimit,
            threads, collectiveTimeout, checksumEvery, wire, external, host, bindHost, port, waitTimeout, logLevel, minWorkers, checkpointEvery, keepCheckpoints, resume, killAtStep,
        };
        foreach (var option in monitoring.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            var config = new TrainingConfig(
                Model: result.GetValue(model)!,
                Workers: result.GetValue(workers),
                Epochs: result.GetValue(epochs),
                BatchSizePerWorker: result.GetValue(batch),
                LearningRate: result.GetValue(lr),
                Optimizer: result.GetValue(optimizer)!,
                Seed: result.GetValue(seed),
                HiddenSize: result.GetValue(hidden),
                LatentSize: result.GetValue(latent),
                Beta: result.GetValue(beta),
                WeightDecay: result.GetValue(weightDecay),
                DataDirectory: Path.GetFullPath(result.GetValue(data)!),
                TrainLimit: result.GetValue(trainLimit),
                TestLimit: result.GetValue(testLimit),
                ThreadsPerWorker: result.GetValue(threads),
                CollectiveTimeoutSeconds: result.GetValue(collectiveTimeout),
                ChecksumEverySteps: result.GetValue(checksumEvery),
                WireFormat: result.GetValue(wire)!,
                GanArchitecture: result.GetValue(ganArchitecture)!,
                DiscriminatorLearningRate: result.GetValue(lrDiscriminator),
                GeneratorLearningRate: result.GetValue(lrGenerator),
                DiscriminatorSteps: result.GetValue(discriminatorSteps),
                EvaluateEverySteps: result.GetValue(evaluateEvery),
                FidClassifier: result.GetValue(fidClassifier)!,
                InjectNanAtStep: result.GetValue(injectNan),
                LearningRateSchedule: result.GetValue(schedule)!,
                DeletionAugmentation: result.GetValue(deletion),
                MinWorkers: result.GetValue(minWorkers),
                CheckpointEverySteps: result.GetValue(checkpointEvery),
                KeepCheckpoints: result.GetValue(keepCheckpoints));
            var node = new NodeArguments(result.GetValue(external), result.GetValue(host)!, result.GetValue(bindHost), result.GetValue(port), result.GetValue(waitTimeout), result.GetValue(logLevel)!, result.GetValue(killAtStep));
            if (result.GetValue(resume) is { } resumeDirectory)
            {
                return await ResumeAsync(resumeDirectory, node, monitoring.Read(result), cancellationToken).ConfigureAwait(false);
            }

            var runDirectory = result.GetValue(output) ?? Path.Combine("runs", $"{config.Model}-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture)}");
            return await RunAsync(config, runDirectory, node, null, monitoring.Read(result), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Continues the run in <paramref name="runDirectory"/> from its newest checkpoint that passes
    /// the SHA-256 check. A corrupt or truncated checkpoint is reported and the one before it is used.
    /// </summary>
    private static async Task<int> ResumeAsync(string runDirectory, NodeArguments node, MonitoringSettings monitoring, CancellationToken cancellationToken)
    {
        runDirectory = Path.GetFullPath(runDirectory);
        var candidates = CheckpointCatalog.All(runDirectory);
        if (candidates.Any(c => c.Final))
        {
            await Console.Error.WriteLineAsync($"--resume {runDirectory}: the run already finished (checkpoints/final.ckpt exists); start a new run instead.").ConfigureAwait(false);
            return 2;
        }

        foreach (var candidate in candidates)
        {
            CheckpointData checkpoint;
            try
            {
                checkpoint = Checkpoint.Read(candidate.Path);
            }
            catch (CheckpointException error)
            {
                await Console.Error.WriteLineAsync($"rejected, trying the checkpoint before it: {error.Message}").ConfigureAwait(false);
                continue;
            }

            Console.WriteLine($"resuming from {candidate.Path}: step {checkpoint.Step}, {checkpoint.Epoch} epoch(s) complete, {checkpoint.Position} samples of the next one trained");
            var point = new ResumePoint(checkpoint.Epoch, checkpoint.Step, checkpoint.Position, checkpoint.Weights, checkpoint.OptimizerState);
            return await RunAsync(checkpoint.Config, runDirectory, node, point, monitoring, cancellationToken).ConfigureAwait(false);
        }

        await Console.Error.WriteLineAsync(candidates.Count == 0
            ? $"--resume {runDirectory}: no checkpoint found in {Path.Combine(runDirectory, "checkpoints")}; pass the folder of a run that wrote at least one (see --checkpoint-every)."
            : $"--resume {runDirectory}: none of the {candidates.Count} checkpoints is valid; the run cannot be resumed, start it again.").ConfigureAwait(false);
        return 1;
    }

    private static async Task<int> RunAsync(TrainingConfig config, string runDirectory, NodeArguments node, ResumePoint? resume, MonitoringSettings monitoring, CancellationToken cancellationToken)
    {
        var errors = config.Validate().Concat(node.Validate()).Concat(monitoring.Validate()).ToList();
        if (string.IsNullOrWhiteSpace(runDirectory))
        {
            errors.Add("--output is empty; give the folder to create for the run.");
        }

        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                await Console.Error.WriteLineAsync(error).ConfigureAwait(false);
            }

            return 2;
        }

        runDirectory = Path.GetFullPath(runDirectory);
        try
        {
            Directory.CreateDirectory(runDirectory);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            await Console.Error.WriteLineAsync($"--output {runDirectory} cannot be created: {error.Message} Choose a writable folder.").ConfigureAwait(false);
            return 2;
        }

        var (externalWorkers, host, bindHost, port, _, logLevel, killAtStep) = node;
        var workerWait = TimeSpan.FromSeconds(node.WorkerWaitSeconds);

        TorchRuntime.EnsureLoaded();

        // libtorch has one intra-op thread pool per process: embedded workers share it.
        torch.set_num_threads(config.ThreadsPerWorker);
        Console.WriteLine($"libtorch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s) per process");
        IDisposable? telemetry = null;
        DashboardServer? dashboard = null;
        LocalCluster started;
        var board = new RunBoard();
        try
        {
            telemetry = TelemetryExport.Start(monitoring.Telemetry("deepgen-coordinator", host));
            if (monitoring.DashboardPort is { } dashboardPort)
            {
                dashboard = await DashboardServer.StartAsync(board, MonitoringSettings.DashboardHost, dashboardPort, cancellationToken).ConfigureAwait(false);
            }

            started = LocalCluster.StartCoordinator(host, port, logLevel, bindHost);
        }
        catch (InvalidOperationException error)
        {
            await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
            telemetry?.Dispose();
            if (dashboard is not null)
            {
                await dashboard.DisposeAsync().ConfigureAwait(false);
            }

            return 1;
        }

        using var ownedTelemetry = telemetry;
        await using var ownedDashboard = dashboard;
        await using var cluster = started;
        Console.WriteLine($"coordinator node {cluster.SeedNode}");
        if (dashboard is not null)
        {
            Console.WriteLine($"run page: {dashboard.Address}");
        }

        if (monitoring.MetricsPort > 0)
        {
            Console.WriteLine($"Prometheus metrics: http://{host}:{monitoring.MetricsPort}/metrics");
        }

        if (externalWorkers)
        {
            Console.WriteLine($"waiting for {config.Workers} workers: start them with deepgen-worker --seed-nodes {cluster.SeedNode}");
        }
        else
        {
            cluster.StartWorkers(config.Workers, logLevel);
        }

        IRunObserver progress = new ConsoleProgress(Console.Out, TimeSpan.FromSeconds(2));
        if (killAtStep > 0)
        {
            progress = new KillDrill(progress, killAtStep);
        }

        var stragglers = new StragglerPolicy(monitoring.StragglerFactor, monitoring.StragglerSteps);
        var monitor = new RunMonitor(board.Open(runDirectory), stragglers, Akka.Event.Logging.GetLogger(cluster.CoordinatorSystem, nameof(RunMonitor)));
        var outcome = await cluster.RunAsync(new StartRun(config, runDirectory, new CompositeObserver(progress, monitor), workerWait, resume), cancellationToken).ConfigureAwait(false);
        monitor.Finished(outcome);
        switch (outcome)
        {
            case RunCompleted completed:
                var final = completed.FinalEvaluation is { } e ? ConsoleProgress.Terms(e.Names, e.Values) : "no final evaluation";
                Console.WriteLine($"run {completed.RunId} finished after {completed.Steps} steps; {final}");
                Console.WriteLine($"outputs in {completed.RunDirectory}");
                return 0;
            case RunFailed failed:
                await Console.Error.WriteLineAsync($"run failed: {failed.Reason}").ConfigureAwait(false);
                return 1;
            default:
                await Console.Error.WriteLineAsync($"unexpected reply from the coordinator: {outcome}").ConfigureAwait(false);
                return 1;
        }
    }

    /// <summary>
    /// Recovery drill: kills this process with SIGKILL once step <paramref name="step"/> is in
    /// metrics.csv. The checkpoints of earlier steps are on disk by then, because the coordinator
    /// writes a step checkpoint as soon as its step is committed and its state has arrived.
    /// </summary>
    private sealed class KillDrill(IRunObserver inner, long step) : IRunObserver
    {
        public void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch) => inner.RunStarted(runId, config, stepsPerEpoch);

        public void StepCompleted(StepCompleted report, double samplesPerSecond)
        {
            inner.StepCompleted(report, samplesPerSecond);
            if (report.Step >= step)
            {
                Console.WriteLine($"kill drill: SIGKILL after step {report.Step}");
                Console.Out.Flush();
                System.Diagnostics.Process.GetCurrentProcess().Kill();
            }
        }

        public void EpochEvaluated(EpochEvaluation evaluation) => inner.EpochEvaluated(evaluation);

        public void Log(string message) => inner.Log(message);
    }

    /// <summary>Options of the coordinator node, from the command line or the environment.</summary>
    private sealed record NodeArguments(bool ExternalWorkers, string Host, string? BindHost, int Port, double WorkerWaitSeconds, string LogLevel, long KillAtStep = 0)
    {
        public List<string> Validate()
        {
            var errors = new[] { NodeOptions.CheckHost("--host", Host), BindHost is null ? null : NodeOptions.CheckHost("--bind-host", BindHost), NodeOptions.CheckPort("--port", Port), NodeOptions.CheckLogLevel(LogLevel) }
                .OfType<string>().ToList();
            if (!(WorkerWaitSeconds > 0) || WorkerWaitSeconds > 86_400)
            {
                errors.Add($"--worker-wait-timeout {WorkerWaitSeconds.ToString(CultureInfo.InvariantCulture)} is invalid; give a number of seconds above 0 and at most 86400.");
            }

            if (KillAtStep < 0 || (KillAtStep > 0 && ExternalWorkers))
            {
                errors.Add($"--kill-at-step {KillAtStep} is invalid; give a step number with embedded workers (without --external-workers), or 0.");
            }

            if (ExternalWorkers && Port == 0)
            {
                errors.Add("--external-workers needs a fixed --port (for example 4053) that the workers use as their seed node.");
            }

            return errors;
        }
    }
}
