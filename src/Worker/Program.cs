using System.CommandLine;
using System.Net;
using Akka.Actor;
using DeepGen.Distributed.Cluster;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker;
using TorchSharp;

// deepgen-worker: one worker node. It joins the cluster through the seed nodes, registers with the
// coordinator, trains the runs it is given and exits when the coordinator leaves.
var seedNodes = new Option<string>("--seed-nodes")
{
    Description = "Comma-separated Akka addresses of seed nodes, for example akka.tcp://deepgen@127.0.0.1:4053.",
}.FromEnvironment("");
var host = new Option<string>("--host") { Description = "Address this node advertises to peers for Akka.Remote and the data plane, and binds unless --bind-host is given." }.FromEnvironment("127.0.0.1");
var bindHost = new Option<string?>("--bind-host") { Description = "Address to bind when it differs from --host, for example 0.0.0.0 in a container whose --host is a DNS name." }.FromEnvironment(null);
var port = new Option<int>("--port") { Description = "Akka.Remote port (0 = any free port)." }.FromEnvironment(0);
var dataPlanePort = new Option<int>("--data-plane-port") { Description = "TCP port of the gradient data plane (0 = any free port)." }.FromEnvironment(0);
var workerId = new Option<string>("--worker-id") { Description = "Name of this worker in logs." }.FromEnvironment($"{Dns.GetHostName()}-{Environment.ProcessId}");
var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads." }.FromEnvironment(1);
var faultAtStep = new Option<long>("--fault-at-step") { Description = "Recovery drill: crash or hang this worker just before this global step (0 = never)." }.FromEnvironment(0L);
var fault = new Option<string>("--fault") { Description = "Recovery drill kind: kill (SIGKILL, a crash) or stop (SIGSTOP, a hang)." }.FromEnvironment("kill");
var logLevel = new Option<string>("--log-level") { Description = "Akka log level: DEBUG, INFO, WARNING or ERROR." }.FromEnvironment("INFO");

var metricsPort = new Option<int>("--metrics-port") { Description = "Serve Prometheus metrics at http://HOST:PORT/metrics, HOST being the bound address (0 = no endpoint)." }.FromEnvironment(0);
var telemetryConsole = new Option<bool>("--telemetry-console") { Description = "Print spans and metrics to standard output, for debugging." };
var traceEvery = new Option<int>("--trace-every") { Description = "Trace one training step in N (1 = every step); give every node the same value." }.FromEnvironment(1);

var root = new RootCommand("DeepGen.Distributed worker node.") { seedNodes, host, bindHost, port, dataPlanePort, workerId, threads, logLevel, faultAtStep, fault, metricsPort, telemetryConsole, traceEvery };
root.SetAction(async (result, cancellationToken) =>
{
    var seeds = result.GetValue(seedNodes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    if (seeds.Length == 0)
    {
        await Console.Error.WriteLineAsync("No seed nodes: pass --seed-nodes akka.tcp://deepgen@HOST:PORT (the coordinator's address) or set DEEPGEN_SEED_NODES.").ConfigureAwait(false);
        return 2;
    }

    var advertisedHost = result.GetValue(host)!;
    var bindTo = result.GetValue(bindHost);
    var telemetryOptions = new TelemetryOptions("deepgen-worker")
    {
        PrometheusPort = result.GetValue(metricsPort),
        PrometheusHost = bindTo ?? advertisedHost,
        Console = result.GetValue(telemetryConsole),
        TraceEverySteps = result.GetValue(traceEvery),
        InstanceId = result.GetValue(workerId),
    };
    var errors = seeds.Select(NodeOptions.CheckSeedNode)
        .Append(NodeOptions.CheckHost("--host", advertisedHost))
        .Append(bindTo is null ? null : NodeOptions.CheckHost("--bind-host", bindTo))
        .Append(NodeOptions.CheckPort("--port", result.GetValue(port)))
        .Append(NodeOptions.CheckPort("--data-plane-port", result.GetValue(dataPlanePort)))
        .Append(NodeOptions.CheckLogLevel(result.GetValue(logLevel)!))
        .Append(result.GetValue(threads) is < 1 or > 256 ? $"--threads {result.GetValue(threads)} is invalid; it must be from 1 to 256." : null)
        .Append(result.GetValue(faultAtStep) < 0 ? $"--fault-at-step {result.GetValue(faultAtStep)} is invalid; use 0 (never) or a step number." : null)
        .Append(FaultInjection.Kinds.Contains(result.GetValue(fault)!) ? null : $"--fault '{result.GetValue(fault)}' is not available; use kill or stop.")
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
        listener = new DataPlaneListener(NodeOptions.BindAddress(bindTo ?? advertisedHost), result.GetValue(dataPlanePort), advertisedHost);
        var settings = new ClusterSettings(ClusterRoles.Worker, advertisedHost, result.GetValue(port), seeds, result.GetValue(logLevel)!) { BindHostname = bindTo };
        system = NodeOptions.StartNode(settings, "--port");
    }
    catch (Exception error) when (error is InvalidOperationException or System.Net.Sockets.SocketException)
    {
        await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
        return 1;
    }

    using var ownedTelemetry = telemetry;
    using var ownedListener = listener;
    var drill = result.GetValue(faultAtStep) > 0 ? new FaultInjection(result.GetValue(faultAtStep), result.GetValue(fault)!) : null;
    var options = new WorkerOptions(result.GetValue(workerId)!, Dns.GetHostName(), listener, "cpu", ExitWhenCoordinatorLeaves: true, drill);
    system.ActorOf(WorkerActor.Props(options), ClusterRoles.WorkerActorName);
    Console.WriteLine($"worker {options.WorkerId}: node {Akka.Cluster.Cluster.Get(system).SelfAddress}, data plane {listener.Endpoint}");

    await using var stop = cancellationToken.Register(() => CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance));
    await system.WhenTerminated.ConfigureAwait(false);
    return 0;
});

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
