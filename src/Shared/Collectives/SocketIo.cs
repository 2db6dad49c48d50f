using System.Net.Sockets;

namespace DeepGen.Distributed.Collectives;

/// <summary>Blocking send and receive of whole buffers; the socket's timeouts bound each call.</summary>
internal static class SocketIo
{
    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = socket.Send(data, SocketFlags.None);
            data = data[sent..];
        }
    }

    /// <exception cref="EndOfStreamException">The peer closed the connection first.</exception>
    public static void ReceiveAll(Socket socket, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var received = socket.Receive(destination, SocketFlags.None);
            if (received == 0)
            {
                throw new EndOfStreamException("the peer closed the connection");
            }

            destination = destination[received..];
        }
    }
}
