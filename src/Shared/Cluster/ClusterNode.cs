using Akka.Actor;

namespace DeepGen.Distributed.Cluster;

/// <summary>Starts actor systems that are members of the training cluster.</summary>
public static class ClusterNode
{
    /// <summary>
    /// Starts a node with <paramref name="settings"/>. A node without seed nodes joins itself and
    /// so forms a new cluster (the coordinator of an embedded run).
    /// </summary>
    public static ActorSystem Start(ClusterSettings settings)
    {
        var system = ActorSystem.Create(ClusterRoles.SystemName, settings.ToConfig());
        var cluster = Akka.Cluster.Cluster.Get(system);
        if (settings.SeedNodes.Count == 0)
        {
            cluster.Join(cluster.SelfAddress);
        }

        return system;
    }

    /// <summary>Leaves the cluster gracefully and terminates the system, waiting at most <paramref name="timeout"/>.</summary>
    public static async Task StopAsync(ActorSystem system, TimeSpan timeout)
    {
        var shutdown = CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        await Task.WhenAny(shutdown, Task.Delay(timeout)).ConfigureAwait(false);
        await Task.WhenAny(system.WhenTerminated, Task.Delay(timeout)).ConfigureAwait(false);
    }
}
