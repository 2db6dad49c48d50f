using System.Globalization;
using System.Net;

namespace DeepGen.Distributed.Collectives;

/// <summary>A worker's data-plane address: the TCP endpoint its peers connect to for collectives.</summary>
public sealed record DataPlaneEndpoint(string Host, int Port)
{
    /// <summary>Parses <c>host:port</c>.</summary>
    /// <exception cref="FormatException">The text is not <c>host:port</c> with a port in 1..65535.</exception>
    public static DataPlaneEndpoint Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new FormatException($"Invalid data-plane endpoint '{text}': expected host:port with a port from 1 to 65535, for example 127.0.0.1:5000.");
        }

        return new DataPlaneEndpoint(text[..colon].Trim('[', ']'), port);
    }

    /// <summary>Resolves the host to an address, preferring IPv4.</summary>
    public IPEndPoint Resolve()
    {
        if (IPAddress.TryParse(Host, out var address))
        {
            return new IPEndPoint(address, Port);
        }

        var addresses = Dns.GetHostAddresses(Host);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"Data-plane host '{Host}' has no address.");
        return new IPEndPoint(chosen, Port);
    }

    /// <inheritdoc />
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
