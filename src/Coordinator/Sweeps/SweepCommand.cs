using System.CommandLine;
using System.Globalization;
using Akka.Actor;
using DeepGen.Distributed.Cluster;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Coordinator.Dashboard;
using DeepGen.Distributed.Coordinator.Sweeps.Dashboard;
using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Coordinator.Sweeps.Output;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Coordinator.Sweeps;

/// <summary><c>deepgen sweep SPEC.yaml</c>, <c>deepgen sweep resume DIR</c> and <c>deepgen sweep status DIR</c>.</summary>
public static class SweepCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("SPEC") { Description = "Sweep spec (YAML): base settings, parameters, search, objective, budget, scheduler." };
        var output = new Option<string?>("--output") { Description = "Sweep folder to create; default sweeps/<spec name>-<UTC time>." };
        var slots = SlotsOption();
        var wait = WaitOption();
        var logLevel = LogLevelOption();
        var nodes = new NodeOptionSet();
        var command = new Command("sweep", "Run a hyperparameter sweep: trials on free worker slots, ASHA promotion or early stopping, a results table.")
        {
            spec, output, slots, wait, logLevel, nodes.External, nodes.Host, nodes.Port, nodes.Isolated, nodes.DashboardPort, nodes.NoDashboard,
        };
        command.SetAction(async (result, cancellation) =>
        {
            var specPath = result.GetValue(spec)!;
            var directory = result.GetValue(output) ?? Path.Combine("sweeps", $"{Path.GetFileNameWithoutExtension(specPath)}-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
            return await StartAsync(specPath, directory, result.GetValue(slots), result.GetValue(wait), result.GetValue(logLevel)!, nodes.Read(result), cancellation).ConfigureAwait(false);
        });

        command.Subcommands.Add(CreateResume());
        command.Subcommands.Add(CreateStatus());
        return command;
    }

    private static Command CreateResume()
    {
        var directory = new Argument<string>("DIR") { Description = "Sweep folder written by 'deepgen sweep'." };
        var slots = SlotsOption();
        var wait = WaitOption();
        var logLevel = LogLevelOption();
        var nodes = new NodeOptionSet();
        var command = new Command("resume", "Continue a sweep after its coordinator stopped: finished trials are kept, interrupted ones resume, paused ones can still be promoted.")
        {
            directory, slots, wait, logLevel, nodes.External, nodes.Host, nodes.Port, nodes.Isolated, nodes.DashboardPort, nodes.NoDashboard,
        };
        command.SetAction(async (result, cancellation) =>
        {
            var store = new SweepStore(result.GetValue(directory)!, Console.Out);
            if (!File.Exists(store.StatePath))
            {
                await Console.Error.WriteLineAsync($"{store.StatePath} not found; give a folder written by 'deepgen sweep'.").ConfigureAwait(false);
                return 2;
            }

            var plan = Plan(store.ReadSpec(), Path.Combine(store.Directory, SweepStore.SpecFileName));
            return plan is null ? 2 : await RunAsync(plan, store, result.GetValue(slots), result.GetValue(wait), result.GetValue(logLevel)!, nodes.Read(result), cancellation).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateStatus()
    {
        var directory = new Argument<string>("DIR") { Description = "Sweep folder written by 'deepgen sweep'." };
        var command = new Command("status", "Print a sweep's trial table and its best trial.") { directory };
        command.SetAction(result =>
        {
            var path = result.GetValue(directory)!;
            if (SweepStore.ReadResults(path) is not { } results)
            {
                Console.Error.WriteLine($"{Path.Combine(path, SweepStore.ResultsJsonFileName)} not found; give a folder written by 'deepgen sweep'.");
                return 2;
            }

            SweepStatusTable.Write(Console.Out, results);
            return 0;
        });
        return command;
    }

    private static async Task<int> StartAsync(string specPath, string directory, int slots, double waitSeconds, string logLevel, SweepNodes nodes, CancellationToken cancellation)
    {
        if (!File.Exists(specPath))
        {
            await Console.Error.WriteLineAsync($"{specPath} not found; give the path of a sweep spec (YAML).").ConfigureAwait(false);
            return 2;
        }

        var text = await File.ReadAllTextAsync(specPath, cancellation).ConfigureAwait(false);
        var plan = Plan(text, specPath);
        if (plan is null)
        {
            return 2;
        }

        var store = new SweepStore(directory, Console.Out);
        try
        {
            store.Create(text);
        }
        catch (Exception error) when (error is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
            return 2;
        }

        return await RunAsync(plan, store, slots, waitSeconds, logLevel, nodes, cancellation).ConfigureAwait(false);
    }

    private static async Task<int> RunAsync(SweepPlan plan, SweepStore store, int slots, double waitSeconds, string logLevel, SweepNodes nodes, CancellationToken cancellation)
    {
        var errors = new[] { NodeOptions.CheckLogLevel(logLevel), NodeOptions.CheckHost("--host", nodes.Host), NodeOptions.CheckPort("--port", nodes.Port), nodes.DashboardPort is { } pagePort ? NodeOptions.CheckPort("--dashboard-port", pagePort) : null }.OfType<string>().ToList();
        if (nodes.External && nodes.Port == 0)
        {
            errors.Add("--external-workers needs a fixed --port (for example 4053) that the workers use as their seed node.");
        }

        if (nodes.External && nodes.Isolated)
        {
            errors.Add("--external-workers and --isolated-trials exclude each other: isolated trials start their own in-process workers.");
        }

        if (slots < 0 || slots > 4_096)
        {
            errors.Add($"--slots {slots} is invalid; give a number of worker slots from 1 to 4096, or 0 for the default.");
        }

        if (!(waitSeconds > 0) || waitSeconds > 86_400)
        {
            errors.Add($"--worker-wait-timeout {waitSeconds.ToString(CultureInfo.InvariantCulture)} is invalid; give a number of seconds above 0 and at most 86400.");
        }

        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                await Console.Error.WriteLineAsync(error).ConfigureAwait(false);
            }

            return 2;
        }

        if (slots == 0)
        {
            slots = DefaultSlots(plan, store);
        }

        TorchRuntime.EnsureLoaded();

        // libtorch has one intra-op thread pool per process, shared by every trial's workers.
        torch.set_num_threads(plan.Spec.Base.ThreadsPerWorker);
        Console.WriteLine($"sweep folder {store.Directory}: {plan.Trials.Count} trials on {slots} worker slots");
        DashboardServer? page = null;
        try
        {
            if (nodes.DashboardPort is { } port)
            {
                var sweepsRoot = Path.GetDirectoryName(store.Directory) ?? store.Directory;
                page = await DashboardServer.StartAsync(new RunBoard(), "127.0.0.1", port, cancellation, app => app.MapSweepDashboard(sweepsRoot)).ConfigureAwait(false);
                Console.WriteLine($"sweep page: {page.Address}sweeps/{Uri.EscapeDataString(Path.GetFileName(store.Directory))}/");
            }

            var results = nodes.Isolated
                ? await SweepHost.RunAsync(plan, store, new LocalClusterTrialRunner(TimeSpan.FromSeconds(waitSeconds), logLevel), slots, logLevel, cancellation).ConfigureAwait(false)
                : await RunOnPoolAsync(plan, store, slots, waitSeconds, logLevel, nodes, cancellation).ConfigureAwait(false);
            SweepStatusTable.Write(Console.Out, results);
            return results.BestTrialId is null ? 1 : 0;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"sweep interrupted; continue it with 'deepgen sweep resume {store.Directory}'.").ConfigureAwait(false);
            return 130;
        }
        catch (Exception error) when (error is InvalidOperationException or IOException or System.Text.Json.JsonException)
        {
            await Console.Error.WriteLineAsync($"sweep failed: {error.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            if (page is not null)
            {
                await page.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Runs the sweep on one cluster: a coordinator node whose worker pool gives each trial the
    /// workers of its slots, and <paramref name="slots"/> worker nodes, started in this process or,
    /// with --external-workers, deepgen-worker processes that join through --port.
    /// </summary>
    private static async Task<SweepResults> RunOnPoolAsync(SweepPlan plan, SweepStore store, int slots, double waitSeconds, string logLevel, SweepNodes nodes, CancellationToken cancellation)
    {
        // In-process nodes cannot be cut off by the network, so a late heartbeat there means busy
        // CPUs; external workers keep the default failure detector.
        var heartbeatPause = nodes.External ? (TimeSpan?)null : TimeSpan.FromSeconds(20);
        await using var cluster = LocalCluster.StartCoordinator(nodes.Host, nodes.Port, logLevel, heartbeatPause: heartbeatPause, coordinatorProps: WorkerPoolActor.Props(slots));
        if (nodes.External)
        {
            Console.WriteLine($"waiting for {slots} workers: start them with deepgen-worker --seed-nodes {cluster.SeedNode}");
        }
        else
        {
            cluster.StartWorkers(slots, logLevel);
        }

        try
        {
            await cluster.Coordinator.Ask<PoolReady>(new AwaitWorkers(slots), TimeSpan.FromSeconds(waitSeconds), cancellation).ConfigureAwait(false);
        }
        catch (Akka.Actor.AskTimeoutException)
        {
            throw new InvalidOperationException($"fewer than {slots} workers registered within {waitSeconds.ToString(CultureInfo.InvariantCulture)} s; start more deepgen-worker processes or lower --slots");
        }

        var runner = new LocalClusterTrialRunner(TimeSpan.FromSeconds(waitSeconds), logLevel, launch => new PooledTrialNodes(cluster.CoordinatorSystem, cluster.Coordinator, launch));
        return await SweepHost.RunAsync(plan, store, runner, slots, logLevel, cancellation, scheduler => cluster.Coordinator.Tell(new SubscribeSlotLoss(scheduler))).ConfigureAwait(false);
    }

    /// <summary>Where the sweep's trials run.</summary>
    /// <param name="DashboardPort">Port of the sweep page on 127.0.0.1 (0 = any free port), or null for none.</param>
    private sealed record SweepNodes(bool External, string Host, int Port, bool Isolated, int? DashboardPort);

    /// <summary>The options that choose the sweep's nodes, shared by 'sweep' and 'sweep resume'.</summary>
    private sealed class NodeOptionSet
    {
        public Option<bool> External { get; } = new("--external-workers") { Description = "Run the trials on deepgen-worker processes that join this node through --port, one per slot." };

        public Option<string> Host { get; } = new("--host") { Description = "Address the sweep's coordinator node binds and advertises.", DefaultValueFactory = _ => "127.0.0.1" };

        public Option<int> Port { get; } = new("--port") { Description = "Akka.Remote port of the sweep's coordinator node (0 = any free port; give a fixed one with --external-workers)." };

        public Option<bool> Isolated { get; } = new("--isolated-trials") { Description = "Give every trial its own in-process cluster instead of the sweep's long-lived worker nodes." };

        public Option<int> DashboardPort { get; } = new("--dashboard-port") { Description = "Port of the sweep page on 127.0.0.1 (0 = any free port)." };

        public Option<bool> NoDashboard { get; } = new("--no-dashboard") { Description = "Serve no sweep page." };

        public SweepNodes Read(System.CommandLine.ParseResult result) =>
            new(result.GetValue(External), result.GetValue(Host)!, result.GetValue(Port), result.GetValue(Isolated), result.GetValue(NoDashboard) ? null : result.GetValue(DashboardPort));
    }

    /// <summary>The slots of an earlier run of the sweep, or else enough for the budget's concurrent trials.</summary>
    private static int DefaultSlots(SweepPlan plan, SweepStore store)
    {
        if (File.Exists(store.StatePath) && store.LoadState() is { Slots: > 0 } saved)
        {
            return saved.Slots;
        }

        var concurrent = plan.Spec.Budget.MaxConcurrentTrials > 0 ? plan.Spec.Budget.MaxConcurrentTrials : 1;
        return Math.Max(1, concurrent * plan.Trials.Max(t => t.Config.Workers));
    }

    private static SweepPlan? Plan(string text, string path)
    {
        try
        {
            return SweepPlan.Parse(text);
        }
        catch (SweepSpecException error)
        {
            foreach (var line in error.Errors)
            {
                Console.Error.WriteLine(line.Format(path));
            }

            Console.Error.WriteLine($"{path}: {error.Errors.Count} error(s); no trial was started.");
            return null;
        }
    }

    private static Option<int> SlotsOption() => new("--slots") { Description = "Worker slots the sweep may use at once (0 = the last run's, or max_concurrent × workers per trial)." };

    private static Option<double> WaitOption() => new("--worker-wait-timeout") { Description = "Seconds a trial waits for its workers to register.", DefaultValueFactory = _ => 120 };

    private static Option<string> LogLevelOption() => new("--log-level") { Description = "Akka log level: DEBUG, INFO, WARNING or ERROR. Decisions are printed at any level.", DefaultValueFactory = _ => "WARNING" };
}
