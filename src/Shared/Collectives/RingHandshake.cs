using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace DeepGen.Distributed.Collectives;

/// <summary>
/// Mutual check that a data-plane connection comes from the expected rank of the same run. The
/// accepting side sends a random challenge, and the connecting side replies with
/// HMAC-SHA256(run secret, challenge ‖ rank ‖ world size). The secret itself never crosses the wire.
/// </summary>
internal static class RingHandshake
{
    private const uint Magic = 0x44474450; // "DGDP"
    private const byte ProtocolVersion = 1;
    private const int ChallengeBytes = 16;
    private const int HelloBytes = 4 + 1 + 4 + 4;

    /// <summary>Runs the connecting side: sends hello, replies to the challenge and waits for the verdict.</summary>
    public static void Connect(Socket socket, int rank, int worldSize, byte[] secret)
    {
        Span<byte> hello = stackalloc byte[HelloBytes];
        BinaryPrimitives.WriteUInt32BigEndian(hello, Magic);
        hello[4] = ProtocolVersion;
        BinaryPrimitives.WriteInt32BigEndian(hello[5..], rank);
        BinaryPrimitives.WriteInt32BigEndian(hello[9..], worldSize);
        SocketIo.SendAll(socket, hello);

        var challenge = new byte[ChallengeBytes];
        SocketIo.ReceiveAll(socket, challenge);
        SocketIo.SendAll(socket, Response(secret, challenge, rank, worldSize));

        Span<byte> verdict = stackalloc byte[1];
        SocketIo.ReceiveAll(socket, verdict);
        if (verdict[0] != 1)
        {
            throw new CollectiveException("the peer rejected the handshake: the run secret or the rank does not match");
        }
    }

    /// <summary>
    /// Runs the accepting side. Returns null, with the reason, when the connection is not the
    /// expected rank of this run; the caller then closes it and keeps listening.
    /// </summary>
    public static string? Accept(Socket socket, int expectedRank, int worldSize, byte[] secret)
    {
        Span<byte> hello = stackalloc byte[HelloBytes];
        SocketIo.ReceiveAll(socket, hello);
        if (BinaryPrimitives.ReadUInt32BigEndian(hello) != Magic || hello[4] != ProtocolVersion)
        {
            return "not a DeepGen data-plane client (bad magic or protocol version)";
        }

        var rank = BinaryPrimitives.ReadInt32BigEndian(hello[5..]);
        var world = BinaryPrimitives.ReadInt32BigEndian(hello[9..]);
        if (rank != expectedRank || world != worldSize)
        {
            Reject(socket);
            return $"announced rank {rank} of world size {world}, expected rank {expectedRank} of {worldSize}";
        }

        var challenge = RandomNumberGenerator.GetBytes(ChallengeBytes);
        SocketIo.SendAll(socket, challenge);
        var response = new byte[32];
        SocketIo.ReceiveAll(socket, response);
        if (!CryptographicOperations.FixedTimeEquals(response, Response(secret, challenge, rank, worldSize)))
        {
            Reject(socket);
            return "wrong run secret";
        }

        SocketIo.SendAll(socket, [1]);
        return null;
    }

    private static void Reject(Socket socket)
    {
        try
        {
            SocketIo.SendAll(socket, [0]);
        }
        catch (SocketException)
        {
            // The stranger may already have gone; the rejection needs no reply.
        }
    }

    private static byte[] Response(byte[] secret, byte[] challenge, int rank, int worldSize)
    {
        var message = new byte[challenge.Length + 8];
        challenge.CopyTo(message, 0);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(challenge.Length), rank);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(challenge.Length + 4), worldSize);
        return HMACSHA256.HashData(secret, message);
    }
}
