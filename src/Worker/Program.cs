using System.CommandLine;
using System.Globalization;
using System.Net;
using Akka.Actor;
using DeepGen.Distributed.Cluster;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker;
using TorchSharp;

// deepgen-worker: one worker node. It joins the cluster through the seed nodes, registers with the
// coordinator, trains the runs it is given and exits when the coordinator leaves.
var seedNodes = new Option<string>("--seed-nodes")
{
    Description = "Comma-separated Akka addresses of seed nodes, for example akka.tcp://deepgen@127.0.0.1:4053. Environment: DEEPGEN_SEED_NODES.",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DEEPGEN_SEED_NODES") ?? "",
};
var host = new Option<string>("--host") { Description = "Address this node binds and advertises. Environment: DEEPGEN_HOST.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DEEPGEN_HOST") ?? "127.0.0.1" };
var port = new Option<int>("--port") { Description = "Akka.Remote port (0 = any free port). Environment: DEEPGEN_PORT.", DefaultValueFactory = _ => IntFromEnvironment("DEEPGEN_PORT", 0) };
var dataPlanePort = new Option<int>("--data-plane-port") { Description = "TCP port of the gradient data plane (0 = any free port). Environment: DEEPGEN_DATA_PLANE_PORT.", DefaultValueFactory = _ => IntFromEnvironment("DEEPGEN_DATA_PLANE_PORT", 0) };
var workerId = new Option<string>("--worker-id") { Description = "Name of this worker in logs. Environment: DEEPGEN_WORKER_ID.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DEEPGEN_WORKER_ID") ?? $"{Dns.GetHostName()}-{Environment.ProcessId}" };
var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads. Environment: DEEPGEN_THREADS.", DefaultValueFactory = _ => IntFromEnvironment("DEEPGEN_THREADS", 1) };
var logLevel = new Option<string>("--log-level") { Description = "Akka log level: DEBUG, INFO, WARNING or ERROR.", DefaultValueFactory = _ => "INFO" };
var metricsPort = new Option<int>("--metrics-port") { Description = "Serve Prometheus metrics at http://HOST:PORT/metrics, HOST being --host (0 = no endpoint). Environment: DEEPGEN_METRICS_PORT.", DefaultValueFactory = _ => IntFromEnvironment("DEEPGEN_METRICS_PORT", 0) };
var telemetryConsole = new Option<bool>("--telemetry-console") { Description = "Print spans and metrics to standard output, for debugging." };
var traceEvery = new Option<int>("--trace-every") { Description = "Trace one training step in N (1 = every step); give every node the same value. Environment: DEEPGEN_TRACE_EVERY.", DefaultValueFactory = _ => IntFromEnvironment("DEEPGEN_TRACE_EVERY", 1) };

var root = new RootCommand("DeepGen.Distributed worker node.") { seedNodes, host, port, dataPlanePort, workerId, threads, logLevel, metricsPort, telemetryConsole, traceEvery };
root.SetAction(async (result, cancellationToken) =>
{
    var seeds = result.GetValue(seedNodes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    if (seeds.Length == 0)
    {
        await Console.Error.WriteLineAsync("No seed nodes: pass --seed-nodes akka.tcp://deepgen@HOST:PORT (the coordinator's address) or set DEEPGEN_SEED_NODES.").ConfigureAwait(false);
        return 2;
    }

    var bindHost = result.GetValue(host)!;
    var telemetryOptions = new TelemetryOptions("deepgen-worker")
    {
        PrometheusPort = result.GetValue(metricsPort),
        PrometheusHost = bindHost,
        Console = result.GetValue(telemetryConsole),
        TraceEverySteps = result.GetValue(traceEvery),
        InstanceId = result.GetValue(workerId),
    };
    var errors = seeds.Select(NodeOptions.CheckSeedNode)
        .Append(NodeOptions.CheckHost("--host", bindHost))
        .Append(NodeOptions.CheckPort("--port", result.GetValue(port)))
        .Append(NodeOptions.CheckPort("--data-plane-port", result.GetValue(dataPlanePort)))
        .Append(NodeOptions.CheckLogLevel(result.GetValue(logLevel)!))
        .Append(result.GetValue(threads) is < 1 or > 256 ? $"--threads {result.GetValue(threads)} is invalid; it must be from 1 to 256." : null)
        .Concat(telemetryOptions.Validate())
        .OfType<string>()
        .ToList();
    if (errors.Count > 0)
    {
        foreach (var error in errors)
        {
            await Console.Error.WriteLineAsync(error).ConfigureAwait(false);
        }

        return 2;
    }

    TorchRuntime.EnsureLoaded();
    torch.set_num_threads(result.GetValue(threads));
    Console.WriteLine($"libtorch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s)");
    IDisposable? telemetry;
    DataPlaneListener listener;
    ActorSystem system;
    try
    {
        telemetry = TelemetryExport.Start(telemetryOptions);
        listener = new DataPlaneListener(NodeOptions.BindAddress(bindHost), result.GetValue(dataPlanePort), bindHost);
        system = NodeOptions.StartNode(new ClusterSettings(ClusterRoles.Worker, bindHost, result.GetValue(port), seeds, result.GetValue(logLevel)!), "--port");
    }
    catch (Exception error) when (error is InvalidOperationException or System.Net.Sockets.SocketException)
    {
        await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
        return 1;
    }

    using var ownedTelemetry = telemetry;
    using var ownedListener = listener;
    var options = new WorkerOptions(result.GetValue(workerId)!, Dns.GetHostName(), listener, "cpu", ExitWhenCoordinatorLeaves: true);
    system.ActorOf(WorkerActor.Props(options), ClusterRoles.WorkerActorName);
    Console.WriteLine($"worker {options.WorkerId}: node {Akka.Cluster.Cluster.Get(system).SelfAddress}, data plane {listener.Endpoint}");

    await using var stop = cancellationToken.Register(() => CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance));
    await system.WhenTerminated.ConfigureAwait(false);
    return 0;
});

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

static int IntFromEnvironment(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
