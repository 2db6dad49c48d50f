using System.CommandLine;
using System.Globalization;
using DeepGen.Distributed.Cluster;
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
        var command = new Command("sweep", "Run a hyperparameter sweep: trials on free worker slots, ASHA promotion or early stopping, a results table.")
        {
            spec, output, slots, wait, logLevel,
        };
        command.SetAction(async (result, cancellation) =>
        {
            var specPath = result.GetValue(spec)!;
            var directory = result.GetValue(output) ?? Path.Combine("sweeps", $"{Path.GetFileNameWithoutExtension(specPath)}-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
            return await StartAsync(specPath, directory, result.GetValue(slots), result.GetValue(wait), result.GetValue(logLevel)!, cancellation).ConfigureAwait(false);
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
        var command = new Command("resume", "Continue a sweep after its coordinator stopped: finished trials are kept, interrupted ones resume, paused ones can still be promoted.") { directory, slots, wait, logLevel };
        command.SetAction(async (result, cancellation) =>
        {
            var store = new SweepStore(result.GetValue(directory)!, Console.Out);
            if (!File.Exists(store.StatePath))
            {
                await Console.Error.WriteLineAsync($"{store.StatePath} not found; give a folder written by 'deepgen sweep'.").ConfigureAwait(false);
                return 2;
            }

            var plan = Plan(store.ReadSpec(), Path.Combine(store.Directory, SweepStore.SpecFileName));
            return plan is null ? 2 : await RunAsync(plan, store, result.GetValue(slots), result.GetValue(wait), result.GetValue(logLevel)!, cancellation).ConfigureAwait(false);
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

    private static async Task<int> StartAsync(string specPath, string directory, int slots, double waitSeconds, string logLevel, CancellationToken cancellation)
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

        return await RunAsync(plan, store, slots, waitSeconds, logLevel, cancellation).ConfigureAwait(false);
    }

    private static async Task<int> RunAsync(SweepPlan plan, SweepStore store, int slots, double waitSeconds, string logLevel, CancellationToken cancellation)
    {
        var errors = new[] { NodeOptions.CheckLogLevel(logLevel) }.OfType<string>().ToList();
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
        try
        {
            var runner = new LocalClusterTrialRunner(TimeSpan.FromSeconds(waitSeconds), logLevel);
            var results = await SweepHost.RunAsync(plan, store, runner, slots, logLevel, cancellation).ConfigureAwait(false);
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
