using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DeepGen.Distributed.Configuration;
using Akka.Event;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Coordinator.Dashboard;
using DeepGen.Distributed.Coordinator.Monitoring;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Tests.Coordinator.Cli;
using DeepGen.Distributed.Training;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace DeepGen.Distributed.Tests.Coordinator.Monitoring;

/// <summary>
/// One short two-worker VAE run, observed as <c>deepgen train</c> observes it, with every span
/// captured in memory and the metrics served on a loopback Prometheus endpoint, which a real Prometheus server (Debian package prometheus)
/// scrapes every second from before the run starts.
/// </summary>
public sealed class TelemetryRunFixture : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("deepgen-telemetry-").FullName;
    private readonly List<Activity> _spans = [];
    private TracerProvider? _tracer;
    private IDisposable? _meter;

    public PrometheusServer Prometheus { get; private set; } = null!;

    public int MetricsPort { get; private set; }

    public RunCompleted Run { get; private set; } = null!;

    /// <summary>Spans ended during the run, from every test running meanwhile; filter by run id.</summary>
    public IReadOnlyList<Activity> Spans
    {
        get
        {
            lock (_spans)
            {
                return [.. _spans];
            }
        }
    }

    public async Task InitializeAsync()
    {
        TorchRuntime.EnsureLoaded();
        _tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(DeepGenTelemetry.SourceName)
            .SetSampler(new IterationSampler(1))
            .AddProcessor(new SimpleActivityExportProcessor(new InMemoryExporter<Activity>(new LockedList(_spans))))
            .Build();
        MetricsPort = FreePort();
        _meter = TelemetryExport.Start(new TelemetryOptions("deepgen-test") { PrometheusPort = MetricsPort });
        Prometheus = await PrometheusServer.StartAsync(_folder, MetricsPort);

        // 1,600 images / (2 workers × 32) = 25 steps per epoch.
        var config = new TrainingConfig(Workers: 2, Epochs: 2, BatchSizePerWorker: 32, TrainLimit: 1600, TestLimit: 200, DataDirectory: FashionMnist.DefaultDirectory);
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");
        var runDirectory = Path.Combine(_folder, "run");
        var monitor = new RunMonitor(new RunBoard().Open(runDirectory), new StragglerPolicy(1.5, 5), NoLogger.Instance);
        var observer = new CompositeObserver(new RecordingObserver(), monitor);
        var outcome = await cluster.RunAsync(new StartRun(config, runDirectory, observer, TimeSpan.FromSeconds(60)), CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(3));
        Run = Assert.IsType<RunCompleted>(outcome);
    }

    public async Task DisposeAsync()
    {
        await Prometheus.DisposeAsync();
        _tracer?.Dispose();
        _meter?.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Returns a TCP port that was free a moment ago on loopback.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A list that the exporter's thread and the test threads share.</summary>
    private sealed class LockedList(List<Activity> inner) : ICollection<Activity>
    {
        public int Count
        {
            get
            {
                lock (inner)
                {
                    return inner.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public void Add(Activity item)
        {
            lock (inner)
            {
                inner.Add(item);
            }
        }

        public void Clear()
        {
            lock (inner)
            {
                inner.Clear();
            }
        }

        public bool Contains(Activity item)
        {
            lock (inner)
            {
                return inner.Contains(item);
            }
        }

        public void CopyTo(Activity[] array, int arrayIndex)
        {
            lock (inner)
            {
                inner.CopyTo(array, arrayIndex);
            }
        }

        public bool Remove(Activity item)
        {
            lock (inner)
            {
                return inner.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator()
        {
            lock (inner)
            {
                return inner.ToList().GetEnumerator();
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
