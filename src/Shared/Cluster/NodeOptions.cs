using System.Net;
using Akka.Actor;

namespace DeepGen.Distributed.Cluster;

/// <summary>Checks of the node options shared by the coordinator and worker command lines; each returns the error text or null.</summary>
public static class NodeOptions
{
    /// <summary>Akka log levels accepted by <c>--log-level</c>.</summary>
    public static readonly IReadOnlyList<string> LogLevels = ["DEBUG", "INFO", "WARNING", "ERROR"];

    public static string? CheckPort(string option, int port) =>
        port is < 0 or > 65535 ? $"{option} {port} is invalid; use a TCP port from 1 to 65535, or 0 for any free port." : null;

    public static string? CheckHost(string option, string host) =>
        IPAddress.TryParse(host, out _) || (host.Length > 0 && Uri.CheckHostName(host) == UriHostNameType.Dns && !host.All(c => char.IsDigit(c) || c == '.'))
            ? null
            : $"{option} '{host}' is invalid; give an IP address or a host name, for example 127.0.0.1.";

    public static string? CheckLogLevel(string level) =>
        LogLevels.Contains(level, StringComparer.Ordinal) ? null : $"--log-level '{level}' is invalid; use one of {string.Join(", ", LogLevels)}.";

    public static string? CheckSeedNode(string seed)
    {
        try
        {
            var address = Address.Parse(seed);
            if (address.System != ClusterRoles.SystemName || address.Host is null || address.Port is null or < 1 or > 65535)
            {
                return $"Seed node '{seed}' is invalid; expected akka.tcp://{ClusterRoles.SystemName}@HOST:PORT, the coordinator's address.";
            }

            return null;
        }
        catch (UriFormatException)
        {
            return $"Seed node '{seed}' is invalid; expected akka.tcp://{ClusterRoles.SystemName}@HOST:PORT, the coordinator's address.";
        }
    }

    /// <summary>Resolves <paramref name="host"/> to the address to bind, preferring IPv4.</summary>
    public static IPAddress BindAddress(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out var address) ? address
        : Dns.GetHostAddresses(host).OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).First();

    /// <summary>Starts a node and turns a bind failure into an error that names the address and the fix.</summary>
    /// <exception cref="InvalidOperationException">The node could not start.</exception>
    public static ActorSystem StartNode(ClusterSettings settings, string portOption)
    {
        try
        {
            return ClusterNode.Start(settings);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            var cause = error;
            while (cause.InnerException is not null)
            {
                cause = cause.InnerException;
            }

            throw new InvalidOperationException(
                $"Cannot start the cluster node on {settings.BindHostname ?? settings.Hostname}:{settings.Port}: {cause.Message}. If the port is in use, choose another {portOption}.", error);
        }
    }
}
