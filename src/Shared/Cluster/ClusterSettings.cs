using System.Globalization;
using Akka.Configuration;

namespace DeepGen.Distributed.Cluster;

/// <summary>Akka.NET settings of one node of the training cluster.</summary>
/// <param name="Role"><see cref="ClusterRoles.Coordinator"/> or <see cref="ClusterRoles.Worker"/>.</param>
/// <param name="Hostname">Address the node binds and advertises for Akka.Remote.</param>
/// <param name="Port">Akka.Remote port; 0 picks a free one (not for seed nodes).</param>
/// <param name="SeedNodes">Addresses such as <c>akka.tcp://deepgen@127.0.0.1:4053</c>; empty for a node that joins itself.</param>
/// <param name="LogLevel">Akka log level: DEBUG, INFO, WARNING or ERROR.</param>
public sealed record ClusterSettings(string Role, string Hostname, int Port, IReadOnlyList<string> SeedNodes, string LogLevel = "WARNING")
{
    /// <summary>
    /// Address to bind when it differs from the advertised <see cref="Hostname"/>, such as 0.0.0.0 in a
    /// container reached through a DNS name; null binds <see cref="Hostname"/>. Peers must address
    /// this node as <see cref="Hostname"/>, because Akka.Remote drops messages sent to any other name.
    /// </summary>
    public string? BindHostname { get; init; }

    /// <summary>
    /// Heartbeat silence after which the failure detector marks a node unreachable, on top of the
    /// 1 s heartbeat interval. Nodes in one process cannot be cut off from each other by the network,
    /// so a longer pause there only delays finding a hung node, and avoids losing a healthy one
    /// whose heartbeats are late because the CPUs are oversubscribed.
    /// </summary>
    public TimeSpan AcceptableHeartbeatPause { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Builds the HOCON. The Split Brain Resolver keeps the side that contains the oldest node, which
    /// is the coordinator because it is the first seed: a worker cut off from the coordinator is
    /// downed rather than forming a second cluster. The failure detector marks a silent node
    /// unreachable after about 4 s (1 s heartbeats, <see cref="AcceptableHeartbeatPause"/> of 3 s by default).
    /// </summary>
    public Config ToConfig()
    {
        var seeds = string.Join(", ", SeedNodes.Select(s => $"\"{s}\""));
        var hocon = $$"""
            akka {
              loglevel = {{LogLevel}}
              # The standard-out logger only serves start-up and the very end of shutdown, after
              # the console logger has stopped; warnings there are flush notices.
              stdout-loglevel = ERROR
              loggers = ["DeepGen.Distributed.Cluster.ClusterConsoleLogger, DeepGen.Distributed.Shared"]
              actor {
                provider = cluster
                serializers {
                  deepgen = "DeepGen.Distributed.Serialization.ClusterMessageSerializer, DeepGen.Distributed.Shared"
                }
                serialization-bindings {
                  "DeepGen.Distributed.Messages.IClusterMessage, DeepGen.Distributed.Shared" = deepgen
                }
                serialization-identifiers {
                  "DeepGen.Distributed.Serialization.ClusterMessageSerializer, DeepGen.Distributed.Shared" = 410
                }
              }
              remote.log-remote-lifecycle-events = off
              remote.dot-netty.tcp {
                hostname = "{{BindHostname ?? Hostname}}"
                public-hostname = "{{Hostname}}"
                port = {{Port.ToString(CultureInfo.InvariantCulture)}}
                # On Linux, address reuse maps to SO_REUSEPORT, which lets a second process bind a
                # port that is in use; off, that mistake fails at start-up.
                tcp-reuse-addr = off
                # Initial weights and epoch snapshots (2.6 MB for the default VAE) travel over Akka;
                # gradients never do.
                maximum-frame-size = 64MiB
                send-buffer-size = 64MiB
                receive-buffer-size = 64MiB
              }
              cluster {
                roles = ["{{Role}}"]
                seed-nodes = [{{seeds}}]
                min-nr-of-members = 1
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver {
                  active-strategy = keep-oldest
                  stable-after = 7s
                  keep-oldest.down-if-alone = off
                }
                failure-detector {
                  heartbeat-interval = 1s
                  acceptable-heartbeat-pause = {{((int)Math.Ceiling(AcceptableHeartbeatPause.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)}}ms
                  threshold = 8.0
                }
                log-info = off
              }
              coordinated-shutdown.exit-clr = off
              coordinated-shutdown.run-by-clr-shutdown-hook = off
            }
            """;
        return ConfigurationFactory.ParseString(hocon);
    }
}
