using System.Net;
using System.Net.Sockets;

namespace DeepGen.Distributed.Collectives;

/// <summary>
/// The listening socket of a worker's data plane. It is bound when the worker starts so that the
/// worker can advertise its endpoint before any run assigns it a rank.
/// </summary>
public sealed class DataPlaneListener : IDisposable
{
    private readonly Socket _socket;

    /// <summary>Binds <paramref name="address"/>:<paramref name="port"/>; port 0 picks a free port.</summary>
    /// <param name="address">Address to bind, for example 127.0.0.1.</param>
    /// <param name="port">TCP port, 0 for any free port.</param>
    /// <param name="advertisedHost">Host name peers use to reach this listener; defaults to the bound address.</param>
    public DataPlaneListener(IPAddress address, int port, string? advertisedHost = null)
    {
        _socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.Bind(new IPEndPoint(address, port));
            _socket.Listen(64);
        }
        catch (SocketException error)
        {
            _socket.Dispose();
            throw new InvalidOperationException($"Cannot listen for data-plane connections on {address}:{port}: {error.Message}. Choose another --data-plane-port or free the port.", error);
        }

        var bound = (IPEndPoint)_socket.LocalEndPoint!;
        Endpoint = new DataPlaneEndpoint(advertisedHost ?? bound.Address.ToString(), bound.Port);
    }

    /// <summary>The endpoint to advertise to peers.</summary>
    public DataPlaneEndpoint Endpoint { get; }

    internal Socket Accept(TimeSpan timeout)
    {
        if (!_socket.Poll(timeout, SelectMode.SelectRead))
        {
            throw new TimeoutException();
        }

        return _socket.Accept();
    }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();
}
