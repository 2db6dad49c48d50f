using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.InteropServices;

namespace DeepGen.Distributed.Collectives;

/// <summary>
/// Collectives over a ring of direct TCP connections between the ranks of one run: each rank sends
/// to rank + 1 and receives from rank − 1 (mod world size). Every method is a synchronisation point:
/// all ranks must call the same methods in the same order with buffers of the same length.
/// </summary>
/// <remarks>
/// Not thread-safe: one training thread owns the ring. After any <see cref="CollectiveException"/>
/// the ring is closed and a new one must be formed.
/// </remarks>
public sealed class RingCollective : IDisposable
{
    private const int FrameHeaderBytes = 12;


    private readonly Socket? _next;
    private readonly Socket? _previous;
    private readonly IReadOnlyList<DataPlaneEndpoint> _peers;
    private readonly CollectiveOptions _options;
    private readonly byte[] _scratch;
    private readonly float[] _decoded;
    private byte[] _encoded = [];
    private uint _sequence;
    private volatile bool _closed;

    private RingCollective(int rank, int worldSize, IReadOnlyList<DataPlaneEndpoint> peers, Socket? next, Socket? previous, CollectiveOptions options)
    {
        Rank = rank;
        WorldSize = worldSize;
        _peers = peers;
        _next = next;
        _previous = previous;
        _options = options;
        var chunkBytes = InterleavedChunkBytes(options.ChunkBytes, next, previous);
        _scratch = new byte[chunkBytes];
        _decoded = new float[chunkBytes / sizeof(float)];
    }

    /// <summary>This process's rank, 0 ≤ rank &lt; world size.</summary>
    public int Rank { get; }

    /// <summary>Number of ranks in the ring.</summary>
    public int WorldSize { get; }

    /// <summary>Bytes this rank has sent since the ring was formed.</summary>
    public long BytesSent { get; private set; }

    private int NextRank => (Rank + 1) % WorldSize;

    private int PreviousRank => (Rank - 1 + WorldSize) % WorldSize;

    /// <summary>
    /// Forms the ring: connects to rank + 1 and accepts rank − 1's connection on
    /// <paramref name="listener"/>, both authenticated with <paramref name="runSecret"/>.
    /// Connections from anything else are rejected, reported through <paramref name="onRejected"/>,
    /// and do not stop the formation.
    /// </summary>
    /// <param name="peers">Data-plane endpoint of every rank, indexed by rank.</param>
    /// <exception cref="CollectiveException">The ring did not form within the timeout.</exception>
    public static RingCollective Form(
        DataPlaneListener listener,
        int rank,
        IReadOnlyList<DataPlaneEndpoint> peers,
        byte[] runSecret,
        CollectiveOptions options,
        Action<string>? onRejected = null,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        var worldSize = peers.Count;
        if (worldSize < 1 || rank < 0 || rank >= worldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Rank must be in [0, {worldSize}) for a world of {worldSize} endpoints.");
        }

        if (worldSize == 1)
        {
            return new RingCollective(rank, 1, peers, null, null, options);
        }

        var previousRank = (rank - 1 + worldSize) % worldSize;
        var deadline = Stopwatch.StartNew();
        var accepting = Task.Factory.StartNew(
            () => AcceptPrevious(listener, previousRank, worldSize, runSecret, options, deadline, peers, onRejected, cancellationToken),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        Socket? next = null;
        try
        {
            next = ConnectNext(rank, peers, runSecret, options, deadline, cancellationToken);
            var previous = accepting.GetAwaiter().GetResult();
            return new RingCollective(rank, worldSize, peers, next, previous, options);
        }
        catch
        {
            // The listener belongs to the caller and stays open for the next run.
            next?.Dispose();
            accepting.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>
    /// Replaces <paramref name="buffer"/> on every rank with the element-wise sum over all ranks.
    /// Reduce-scatter then all-gather: each rank sends 2(N−1)/N of the buffer. The sum of segment k
    /// is always accumulated in ring order starting at rank k, and then copied, so the result is
    /// bitwise identical on every rank whatever the timing of the messages.
    /// With a 16-bit <see cref="CollectiveOptions.Wire"/>, partial sums are rounded to that format
    /// at every hop and the result carries its rounding error; it stays identical on every rank.
    /// </summary>
    public void AllReduceSum(Memory<float> buffer)
    {
        ThrowIfClosed();
        _sequence++;
        if (WorldSize == 1 || buffer.IsEmpty)
        {
            return;
        }

        var world = WorldSize;
        for (var step = 0; step < world - 1; step++)
        {
            var sendSegment = Modulo(Rank - step, world);
            var receiveSegment = Modulo(Rank - step - 1, world);
            Exchange(buffer, sendSegment, receiveSegment, accumulate: true, "all-reduce (reduce-scatter)");
        }

        if (_options.Wire != WireFormat.Fp32)
        {
            // This rank now owns the full sum of segment rank + 1. Peers will receive it in the
            // 16-bit format, so the owner keeps the same rounded values to stay bitwise identical.
            WireCodec.RoundTrip(_options.Wire, Segment(buffer, Modulo(Rank + 1, world)).Span);
        }

        for (var step = 0; step < world - 1; step++)
        {
            var sendSegment = Modulo(Rank + 1 - step, world);
            var receiveSegment = Modulo(Rank - step, world);
            Exchange(buffer, sendSegment, receiveSegment, accumulate: false, "all-reduce (all-gather)");
        }
    }

    /// <summary>Copies <paramref name="buffer"/> of rank <paramref name="root"/> to every rank, forwarded along the ring chunk by chunk.</summary>
    public void Broadcast(Memory<byte> buffer, int root)
    {
        ThrowIfClosed();
        if (root < 0 || root >= WorldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(root), root, $"The broadcast root must be a rank in [0, {WorldSize}).");
        }

        _sequence++;
        if (WorldSize == 1)
        {
            return;
        }

        var forwards = NextRank != root;
        var chunk = _options.ChunkBytes;
        try
        {
            if (Rank != root)
            {
                ReceiveHeader(0, buffer.Length, "broadcast");
            }

            if (forwards)
            {
                SendHeader(0, buffer.Length);
            }

            for (var offset = 0; offset < buffer.Length; offset += chunk)
            {
                var piece = buffer.Span.Slice(offset, Math.Min(chunk, buffer.Length - offset));
                if (Rank != root)
                {
                    SocketIo.ReceiveAll(_previous!, piece);
                }

                if (forwards)
                {
                    SocketIo.SendAll(_next!, piece);
                    BytesSent += piece.Length;
                }
            }
        }
        catch (Exception error) when (error is SocketException or EndOfStreamException or ObjectDisposedException or InvalidDataException)
        {
            throw Fail("broadcast", error);
        }
    }

    /// <summary>Returns once every rank has called it.</summary>
    public void Barrier()
    {
        var token = new float[] { 1 };
        AllReduceSum(token);
        if (token[0] != WorldSize)
        {
            throw Fail("barrier", new InvalidDataException($"barrier counted {token[0]} ranks, expected {WorldSize}"));
        }
    }

    /// <summary>Closes the connections; a collective blocked on another thread fails at once.</summary>
    public void Dispose()
    {
        _closed = true;
        _next?.Dispose();
        _previous?.Dispose();
    }

    private void Exchange(Memory<float> buffer, int sendSegment, int receiveSegment, bool accumulate, string operation)
    {
        var send = Segment(buffer, sendSegment).Span;
        var receive = Segment(buffer, receiveSegment).Span;
        try
        {
            ExchangeChunks(sendSegment, send, receiveSegment, receive, accumulate, operation);
        }
        catch (Exception error) when (error is SocketException or EndOfStreamException or ObjectDisposedException or InvalidDataException)
        {
            throw Fail(operation, error);
        }
    }

    /// <summary>
    /// Sends one segment to rank + 1 while receiving another from rank − 1, on this thread, by
    /// alternating chunks: send chunk k, then receive and sum chunk k. The sum of one chunk
    /// overlaps the kernel's transfer of the next, and no thread hand-off is paid per collective.
    /// </summary>
    /// <remarks>
    /// This cannot deadlock. Each rank sends chunk k, then receives chunk k, so the rank furthest
    /// behind always progresses: the next rank has already read its earlier chunks, only chunk k is
    /// unread on that connection, and <see cref="InterleavedChunkBytes"/> keeps a chunk within half of
    /// the smaller buffer the kernel granted, so that send completes without waiting for the peer.
    /// </remarks>
    private void ExchangeChunks(int sendSegment, ReadOnlySpan<float> send, int receiveSegment, Span<float> receive, bool accumulate, string operation)
    {
        var elementBytes = WireCodec.BytesPerElement(_options.Wire);
        SendHeader(sendSegment, send.Length * elementBytes);
        ReceiveHeader(receiveSegment, receive.Length * elementBytes, operation);

        var chunkElements = _decoded.Length;
        var sent = 0;
        var received = 0;
        while (sent < send.Length || received < receive.Length)
        {
            if (sent < send.Length)
            {
                var count = Math.Min(chunkElements, send.Length - sent);
                SendChunk(send.Slice(sent, count));
                sent += count;
            }

            if (received < receive.Length)
            {
                var count = Math.Min(chunkElements, receive.Length - received);
                ReceiveChunk(receive.Slice(received, count), accumulate);
                received += count;
            }
        }
    }

    private void SendChunk(ReadOnlySpan<float> values)
    {
        ReadOnlySpan<byte> bytes;
        if (_options.Wire == WireFormat.Fp32)
        {
            bytes = MemoryMarshal.AsBytes(values);
        }
        else
        {
            var length = values.Length * sizeof(ushort);
            if (_encoded.Length < length)
            {
                _encoded = new byte[length];
            }

            WireCodec.Encode(_options.Wire, values, _encoded);
            bytes = _encoded.AsSpan(0, length);
        }

        SocketIo.SendAll(_next!, bytes);
        BytesSent += bytes.Length;
    }

    private void ReceiveChunk(Span<float> destination, bool accumulate)
    {
        if (_options.Wire == WireFormat.Fp32 && !accumulate)
        {
            SocketIo.ReceiveAll(_previous!, MemoryMarshal.AsBytes(destination));
            return;
        }

        var incoming = _scratch.AsSpan(0, destination.Length * WireCodec.BytesPerElement(_options.Wire));
        SocketIo.ReceiveAll(_previous!, incoming);
        ReadOnlySpan<float> values;
        if (_options.Wire == WireFormat.Fp32)
        {
            values = MemoryMarshal.Cast<byte, float>(incoming);
        }
        else
        {
            WireCodec.Decode(_options.Wire, incoming, _decoded.AsSpan(0, destination.Length));
            values = _decoded.AsSpan(0, destination.Length);
        }

        if (accumulate)
        {
            AddInPlace(destination, values);
        }
        else
        {
            values.CopyTo(destination);
        }
    }

    private void SendHeader(int segment, int length)
    {
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        BinaryPrimitives.WriteUInt32BigEndian(header, _sequence);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], segment);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], length);
        SocketIo.SendAll(_next!, header);
    }

    private void ReceiveHeader(int segment, int length, string operation)
    {
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        SocketIo.ReceiveAll(_previous!, header);
        var sequence = BinaryPrimitives.ReadUInt32BigEndian(header);
        var receivedSegment = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        var receivedLength = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        if (sequence != _sequence || receivedSegment != segment || receivedLength != length)
        {
            throw new InvalidDataException(
                $"malformed {operation} frame: collective #{sequence}, segment {receivedSegment}, {receivedLength} bytes; expected collective #{_sequence}, segment {segment}, {length} bytes (do all ranks call the same collectives with the same buffer sizes?)");
        }
    }

    private Memory<float> Segment(Memory<float> buffer, int segment)
    {
        var start = (int)((long)buffer.Length * segment / WorldSize);
        var end = (int)((long)buffer.Length * (segment + 1) / WorldSize);
        return buffer[start..end];
    }

    private CollectiveException Fail(string operation, Exception cause)
    {
        var closedLocally = _closed;
        Dispose();
        var peer = cause is SocketException { SocketErrorCode: SocketError.TimedOut } ? PreviousRank : (int?)null;
        var reason = cause switch
        {
            SocketException { SocketErrorCode: SocketError.TimedOut } =>
                $"rank {PreviousRank} at {_peers[PreviousRank]} (or rank {NextRank} at {_peers[NextRank]}) did not answer within {_options.Timeout.TotalSeconds:0.#} s",
            _ when closedLocally => "the ring was closed on this rank",
            EndOfStreamException => $"rank {PreviousRank} at {_peers[PreviousRank]} closed its connection",
            InvalidDataException => $"rank {PreviousRank} at {_peers[PreviousRank]} sent a {cause.Message}",
            _ => $"the connection to rank {NextRank} at {_peers[NextRank]} or from rank {PreviousRank} at {_peers[PreviousRank]} failed: {cause.Message}",
        };
        return new CollectiveException($"{operation} failed on rank {Rank} of {WorldSize}: {reason}.", cause) { PeerRank = peer ?? PreviousRank };
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new CollectiveException($"The ring of rank {Rank} is closed; form a new one.");
        }
    }

    private static void AddInPlace(Span<float> accumulator, ReadOnlySpan<float> addend)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            for (; i <= accumulator.Length - width; i += width)
            {
                var sum = new Vector<float>(accumulator[i..]) + new Vector<float>(addend[i..]);
                sum.CopyTo(accumulator[i..]);
            }
        }

        for (; i < accumulator.Length; i++)
        {
            accumulator[i] += addend[i];
        }
    }

    /// <summary>
    /// Returns the requested chunk size, capped at half of the smaller kernel buffer of the two
    /// sockets (Linux reports twice the size it grants for bookkeeping) and rounded to whole floats.
    /// </summary>
    private static int InterleavedChunkBytes(int requested, Socket? next, Socket? previous)
    {
        if (next is null || previous is null)
        {
            return requested;
        }

        var granted = Math.Min(next.SendBufferSize, previous.ReceiveBufferSize) / 2;
        return Math.Max(4096, Math.Min(requested, granted)) / sizeof(float) * sizeof(float);
    }

    private static int Modulo(int value, int modulus) => ((value % modulus) + modulus) % modulus;

    private static Socket ConnectNext(int rank, IReadOnlyList<DataPlaneEndpoint> peers, byte[] secret, CollectiveOptions options, Stopwatch deadline, CancellationToken cancellationToken)
    {
        var nextRank = (rank + 1) % peers.Count;
        var endpoint = peers[nextRank];
        Exception? lastError = null;
        while (deadline.Elapsed < options.Timeout)
        {
            ThrowIfCancelled(rank, cancellationToken);
            var socket = CreateSocket(endpoint.Resolve().AddressFamily, options);
            try
            {
                var remaining = options.Timeout - deadline.Elapsed;
                if (!socket.ConnectAsync(endpoint.Resolve(), cancellationToken).AsTask().Wait(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken))
                {
                    throw new TimeoutException($"connecting to {endpoint} timed out");
                }

                RingHandshake.Connect(socket, rank, peers.Count, secret);
                return socket;
            }
            catch (Exception error) when (error is SocketException or AggregateException or EndOfStreamException or TimeoutException)
            {
                socket.Dispose();
                lastError = error is AggregateException aggregate ? aggregate.InnerException : error;
                Thread.Sleep(50);
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                ThrowIfCancelled(nextRank, cancellationToken);
                throw;
            }
            catch (CollectiveException rejected)
            {
                socket.Dispose();
                throw new CollectiveException($"Rank {rank} could not join the ring: rank {nextRank} at {endpoint} rejected the handshake ({rejected.Message}).", rejected) { PeerRank = nextRank };
            }
        }

        throw new CollectiveException(
            $"Rank {rank} could not connect to rank {nextRank} at {endpoint} within {options.Timeout.TotalSeconds:0.#} s: {lastError?.Message ?? "no attempt finished"}.",
            lastError ?? new TimeoutException()) { PeerRank = nextRank };
    }

    private static Socket AcceptPrevious(
        DataPlaneListener listener,
        int previousRank,
        int worldSize,
        byte[] secret,
        CollectiveOptions options,
        Stopwatch deadline,
        IReadOnlyList<DataPlaneEndpoint> peers,
        Action<string>? onRejected,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            ThrowIfCancelled(previousRank, cancellationToken);
            var remaining = options.Timeout - deadline.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new CollectiveException(
                    $"Rank {previousRank} at {peers[previousRank]} did not connect within {options.Timeout.TotalSeconds:0.#} s.") { PeerRank = previousRank };
            }

            Socket socket;
            try
            {
                // Poll in short slices so that a cancelled formation stops promptly.
                socket = listener.Accept(remaining < AcceptSlice ? remaining : AcceptSlice);
            }
            catch (TimeoutException)
            {
                continue;
            }

            // A connection that does not complete the handshake quickly is not a peer that is
            // already trying to connect: bound the handshake so it cannot hold up the real one.
            var handshakeTimeout = options.Timeout < HandshakeTimeout ? options.Timeout : HandshakeTimeout;
            socket.ReceiveTimeout = (int)handshakeTimeout.TotalMilliseconds;
            socket.SendTimeout = (int)handshakeTimeout.TotalMilliseconds;
            string? rejection;
            try
            {
                rejection = RingHandshake.Accept(socket, previousRank, worldSize, secret);
            }
            catch (Exception error) when (error is SocketException or EndOfStreamException)
            {
                rejection = $"handshake failed: {error.Message}";
            }

            if (rejection == null)
            {
                ConfigureSocket(socket, options);
                return socket;
            }

            onRejected?.Invoke($"Rejected a data-plane connection from {socket.RemoteEndPoint}: {rejection}.");
            socket.Dispose();
        }
    }

    private static readonly TimeSpan AcceptSlice = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(2);

    private static void ThrowIfCancelled(int peerRank, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            throw new CollectiveException("Ring formation was cancelled.", new OperationCanceledException(cancellationToken)) { PeerRank = peerRank };
        }
    }

    private static Socket CreateSocket(AddressFamily family, CollectiveOptions options)
    {
        var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        ConfigureSocket(socket, options);
        return socket;
    }

    private static void ConfigureSocket(Socket socket, CollectiveOptions options)
    {
        var timeout = (int)Math.Min(int.MaxValue, options.Timeout.TotalMilliseconds);
        socket.NoDelay = true;
        socket.SendTimeout = timeout;
        socket.ReceiveTimeout = timeout;
        socket.SendBufferSize = 4 * 1024 * 1024;
        socket.ReceiveBufferSize = 4 * 1024 * 1024;
    }
}
