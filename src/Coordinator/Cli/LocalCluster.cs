using System.Net;
using Akka.Actor;
using DeepGen.Distributed.Cluster;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Worker;

namespace DeepGen.Distributed.Coordinator.Cli;

/// <summary>
/// A coordinator node and, optionally, worker nodes in this process: separate actor systems that
/// join one Akka cluster over loopback TCP, so the embedded default runs the same remoting,
/// serialisation and data-plane code as a multi-machine cluster.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<ActorSystem> _workers = [];
    private readonly List<DataPlaneListener> _listeners = [];
    private readonly TimeSpan? _heartbeatPause;

    private LocalCluster(ActorSystem coordinatorSystem, IActorRef coordinator, TimeSpan? heartbeatPause)
    {
        CoordinatorSystem = coordinatorSystem;
        Coordinator = coordinator;
        _heartbeatPause = heartbeatPause;
    }

    public ActorSystem CoordinatorSystem { get; }

    public IActorRef Coordinator { get; }

    /// <summary>Akka address that workers use as their seed node.</summary>
    public string SeedNode => Akka.Cluster.Cluster.Get(CoordinatorSystem).SelfAddress.ToString();

    /// <summary>Starts the coordinator node on <paramref name="host"/>:<paramref name="port"/> (0 = any free port).</summary>
    /// <param name="bindHost">Address to bind when it differs from the advertised <paramref name="host"/>; null binds <paramref name="host"/>.</param>
    /// <param name="heartbeatPause">The failure detector's acceptable heartbeat pause (see <see cref="ClusterSettings.AcceptableHeartbeatPause"/>); null keeps the default.</param>
    /// <param name="coordinatorProps">Actor that workers register with; null starts a <see cref="CoordinatorActor"/>.</param>
    public static LocalCluster StartCoordinator(string host, int port, string logLevel, string? bindHost = null, TimeSpan? heartbeatPause = null, Props? coordinatorProps = null)
    {
        var settings = new ClusterSettings(ClusterRoles.Coordinator, host, port, [], logLevel) { BindHostname = bindHost };
        if (heartbeatPause is { } pause)
        {
            settings = settings with { AcceptableHeartbeatPause = pause };
        }

        var system = NodeOptions.StartNode(settings, "--port");
        var coordinator = system.ActorOf(coordinatorProps ?? CoordinatorActor.Props(), ClusterRoles.CoordinatorActorName);
        return new LocalCluster(system, coordinator, heartbeatPause);
    }

    /// <summary>Starts <paramref name="count"/> worker nodes on loopback that join this cluster, with the coordinator's heartbeat pause.</summary>
    public void StartWorkers(int count, string logLevel)
    {
        for (var i = 0; i < count; i++)
        {
            var settings = new ClusterSettings(ClusterRoles.Worker, "127.0.0.1", 0, [SeedNode], logLevel);
            if (_heartbeatPause is { } pause)
            {
                settings = settings with { AcceptableHeartbeatPause = pause };
            }

            var system = ClusterNode.Start(settings);
            var listener = new DataPlaneListener(IPAddress.Loopback, 0);
            _workers.Add(system);
            _listeners.Add(listener);
            system.ActorOf(WorkerActor.Props(new WorkerOptions($"local-{i}", Dns.GetHostName(), listener)), ClusterRoles.WorkerActorName);
        }
    }

    /// <summary>Worker nodes started by <see cref="StartWorkers"/>, for tests that stop one.</summary>
    public IReadOnlyList<ActorSystem> WorkerSystems => _workers;

    /// <summary>Runs a training run to its end and returns <see cref="RunCompleted"/> or <see cref="RunFailed"/>.</summary>
    public async Task<object> RunAsync(StartRun start, CancellationToken cancellationToken) =>
        await Coordinator.Ask<object>(start, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Stops every node. All coordinated shutdowns start together, so that each node already
    /// counts as shutting down when the others disconnect.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var systems = _workers.Append(CoordinatorSystem).ToList();
        var stopping = systems.Select(s => ClusterNode.StopAsync(s, TimeSpan.FromSeconds(10))).ToList();
        await Task.WhenAll(stopping).ConfigureAwait(false);
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
    }
}
