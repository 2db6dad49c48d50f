using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace DeepGen.Distributed.Tests.Coordinator.Training;

/// <summary>
/// Elastic membership with separate processes on loopback: one coordinator (<c>deepgen train
/// --external-workers</c>) and <c>deepgen-worker</c> processes, one of which crashes (SIGKILL),
/// hangs (SIGSTOP) or joins late.
/// </summary>
public sealed class ElasticClusterTests(ITestOutputHelper output)
{
    // 6,000 images: with 3 workers × 32, an epoch has 63 steps; with 2 workers × 32, 94.
    private const int TrainImages = 6000;

    [Fact]
    public void Killed_worker_leaves_ring()
    {
        using var folder = new TemporaryDirectory();
        var run = Path.Combine(folder.Path, "run");
        var port = FreePort();
        using var coordinator = StartCoordinator(port, run, workers: 3, minWorkers: 2, epochs: 2, collectiveTimeout: 60);
        using var first = StartWorker(port, "w0");
        using var second = StartWorker(port, "w1");
        using var doomed = StartWorker(port, "w2", "--fault-at-step", "40", "--fault", "kill");

        var exit = coordinator.WaitForExit(TimeSpan.FromMinutes(4));

        Assert.True(exit == 0, coordinator.Output + doomed.Output);
        Assert.Contains("fault injection: SIGKILL before step 40", doomed.Output, StringComparison.Ordinal);
        var rows = MetricsRow.Read(run);
        AssertEveryStepOnceAndEverySampleOnce(rows, epochs: 2);
        Assert.All(rows.Where(r => r.Step < 39), r => Assert.Equal(3, r.WorldSize));
        Assert.All(rows.Where(r => r.Step >= 40), r => Assert.Equal(2, r.WorldSize));
        Assert.Contains("continuing after step 39", coordinator.Output, StringComparison.Ordinal);
        output.WriteLine($"kill to next completed step: {rows.Single(r => r.Step == 40).UnixTime - FaultTime(doomed.Output):F3} s");
    }

    [Fact]
    public void Hung_worker_leaves_ring()
    {
        using var folder = new TemporaryDirectory();
        var run = Path.Combine(folder.Path, "run");
        var port = FreePort();
        // The collective timeout is far longer than the test's limit: the failure detector must find the hung worker.
        using var coordinator = StartCoordinator(port, run, workers: 3, minWorkers: 2, epochs: 2, collectiveTimeout: 600);
        using var first = StartWorker(port, "w0");
        using var second = StartWorker(port, "w1");
        using var hung = StartWorker(port, "w2", "--fault-at-step", "30", "--fault", "stop");

        var exit = coordinator.WaitForExit(TimeSpan.FromMinutes(3));

        Assert.True(exit == 0, coordinator.Output);
        Assert.Contains("fault injection: SIGSTOP before step 30", hung.Output, StringComparison.Ordinal);
        Assert.Contains("became unreachable", coordinator.Output, StringComparison.Ordinal);
        var rows = MetricsRow.Read(run);
        AssertEveryStepOnceAndEverySampleOnce(rows, epochs: 2);
        Assert.All(rows.Where(r => r.Step >= 30), r => Assert.Equal(2, r.WorldSize));
        output.WriteLine($"hang to next completed step: {rows.Single(r => r.Step == 30).UnixTime - FaultTime(hung.Output):F3} s");
    }

    [Fact]
    public void Late_worker_joins_ring()
    {
        using var folder = new TemporaryDirectory();
        var run = Path.Combine(folder.Path, "run");
        var port = FreePort();
        using var coordinator = StartCoordinator(port, run, workers: 3, minWorkers: 2, epochs: 10, collectiveTimeout: 60);
        using var first = StartWorker(port, "w0");
        using var second = StartWorker(port, "w1");
        Assert.True(coordinator.WaitForOutput("starting epoch 1/10", TimeSpan.FromMinutes(2)), coordinator.Output);
        using var late = StartWorker(port, "w2");

        var exit = coordinator.WaitForExit(TimeSpan.FromMinutes(4));

        Assert.True(exit == 0, coordinator.Output);
        var rows = MetricsRow.Read(run);
        AssertEveryStepOnceAndEverySampleOnce(rows, epochs: 10);
        Assert.Equal(2, rows[0].WorldSize);
        Assert.Equal(3, rows[^1].WorldSize);
        var firstWithThree = rows.First(r => r.WorldSize == 3).Step;
        Assert.All(rows.Where(r => r.Step >= firstWithThree), r => Assert.Equal(3, r.WorldSize));
        Assert.Contains("1 worker(s) join: w2", coordinator.Output, StringComparison.Ordinal);
        // The joiner copied the state, so the epoch checksums of all three replicas agreed.
        Assert.Contains("identical on every rank", coordinator.Output, StringComparison.Ordinal);
        output.WriteLine($"w2 joined at step {firstWithThree}");
    }

    /// <summary>Steps run 1, 2, 3, … without gaps or repeats, and each epoch's global batches add up to the training set.</summary>
    internal static void AssertEveryStepOnceAndEverySampleOnce(IReadOnlyList<MetricsRow> rows, int epochs)
    {
        Assert.Equal(Enumerable.Range(1, rows.Count).Select(i => (long)i), rows.Select(r => r.Step));
        Assert.Equal(Enumerable.Range(1, epochs), rows.Select(r => r.Epoch).Distinct());
        foreach (var epoch in rows.GroupBy(r => r.Epoch))
        {
            Assert.Equal(TrainImages, epoch.Sum(r => r.GlobalBatch));
        }
    }

    private static BackgroundProcess StartCoordinator(int port, string run, int workers, int minWorkers, int epochs, int collectiveTimeout) =>
        BackgroundProcess.StartProgram("deepgen",
        [
            "train", "--external-workers", "--host", "127.0.0.1", "--port", Invariant(port), "--workers", Invariant(workers), "--min-workers", Invariant(minWorkers),
            "--epochs", Invariant(epochs), "--batch-size", "32", "--train-limit", Invariant(TrainImages), "--test-limit", "200",
            "--collective-timeout", Invariant(collectiveTimeout), "--worker-wait-timeout", "120", "--output", run, "--log-level", "INFO",
        ]);

    private static BackgroundProcess StartWorker(int port, string id, params string[] extra) =>
        BackgroundProcess.StartProgram("deepgen-worker",
            new[] { "--seed-nodes", $"akka.tcp://deepgen@127.0.0.1:{Invariant(port)}", "--host", "127.0.0.1", "--worker-id", id }.Concat(extra));

    private static double FaultTime(string workerOutput)
    {
        var line = workerOutput.Split('\n').First(l => l.StartsWith("fault injection:", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..].Trim(), CultureInfo.InvariantCulture);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One row of a run's metrics.csv, with the columns the elasticity checks need.</summary>
internal sealed record MetricsRow(long Step, int Epoch, double Loss, int WorldSize, int GlobalBatch, double UnixTime)
{
    public static IReadOnlyList<MetricsRow> Read(string runDirectory)
    {
        var lines = File.ReadAllLines(Path.Combine(runDirectory, "metrics.csv"));
        var header = lines[0].Split(',').ToList();
        int Column(string name) => header.IndexOf(name) is var i and >= 0 ? i : throw new InvalidOperationException($"metrics.csv has no column {name}: {lines[0]}");
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).Select(f => new MetricsRow(
            long.Parse(f[Column("step")], CultureInfo.InvariantCulture),
            int.Parse(f[Column("epoch")], CultureInfo.InvariantCulture),
            double.Parse(f[Column("loss")], CultureInfo.InvariantCulture),
            int.Parse(f[Column("world_size")], CultureInfo.InvariantCulture),
            int.Parse(f[Column("global_batch")], CultureInfo.InvariantCulture),
            double.Parse(f[Column("unix_time")], CultureInfo.InvariantCulture))).ToList();
    }
}
