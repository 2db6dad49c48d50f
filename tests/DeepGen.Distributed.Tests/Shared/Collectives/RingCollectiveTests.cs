using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using DeepGen.Distributed.Collectives;

namespace DeepGen.Distributed.Tests.Collectives;

public sealed class RingCollectiveTests
{
    public static TheoryData<int, int> WorldAndBufferSizes()
    {
        var data = new TheoryData<int, int>();
        foreach (var world in new[] { 1, 2, 3, 4, 5 })
        {
            // 0 and 1 element, a prime, sizes that the world size does not divide, and 8 MiB of fp32.
            foreach (var size in new[] { 0, 1, 2, 7, 997, 65_537, 2 * 1024 * 1024 })
            {
                data.Add(world, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WorldAndBufferSizes))]
    public void All_reduce_matches_naive_sum_with_identical_bits(int worldSize, int size)
    {
        var inputs = Enumerable.Range(0, worldSize).Select(rank => RandomBuffer(size, seed: 17 * rank + size)).ToArray();
        var expected = new double[size];
        foreach (var input in inputs)
        {
            for (var i = 0; i < size; i++)
            {
                expected[i] += input[i];
            }
        }

        var ring = LoopbackRing.Form(worldSize);
        try
        {
            var outputs = LoopbackRing.RunOnEveryRank(ring, r =>
            {
                var buffer = (float[])inputs[r.Rank].Clone();
                r.AllReduceSum(buffer);
                return buffer;
            });

            for (var i = 0; i < size; i++)
            {
                Assert.True(Math.Abs(outputs[0][i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"element {i}: {outputs[0][i]} != {expected[i]}");
            }

            var reference = Bits(outputs[0]);
            for (var rank = 1; rank < worldSize; rank++)
            {
                Assert.Equal(reference, Bits(outputs[rank]));
            }
        }
        finally
        {
            Dispose(ring);
        }
    }

    [Theory]
    [InlineData(WireFormat.Fp16, 2, 4e-3)]
    [InlineData(WireFormat.Fp16, 4, 4e-3)]
    [InlineData(WireFormat.Bf16, 3, 3e-2)]
    public void Compressed_all_reduce_stays_close_and_identical(WireFormat wire, int worldSize, double relativeTolerance)
    {
        const int size = 100_003;
        var inputs = Enumerable.Range(0, worldSize).Select(rank => RandomBuffer(size, seed: 5 + rank)).ToArray();
        var ring = LoopbackRing.Form(worldSize, new CollectiveOptions(TimeSpan.FromSeconds(20)) { Wire = wire });
        try
        {
            var outputs = LoopbackRing.RunOnEveryRank(ring, r =>
            {
                var buffer = (float[])inputs[r.Rank].Clone();
                r.AllReduceSum(buffer);
                return (Values: buffer, r.BytesSent);
            });

            var worst = 0.0;
            for (var i = 0; i < size; i++)
            {
                var expected = inputs.Sum(input => (double)input[i]);
                var scale = inputs.Sum(input => Math.Abs((double)input[i]));
                worst = Math.Max(worst, Math.Abs(outputs[0].Values[i] - expected) / scale);
            }

            Assert.True(worst <= relativeTolerance, $"worst error {worst:E2} relative to the sum of magnitudes");
            for (var rank = 1; rank < worldSize; rank++)
            {
                Assert.Equal(Bits(outputs[0].Values), Bits(outputs[rank].Values));
            }

            // Half of fp32's 2 (N − 1) / N share, plus frame headers.
            var payload = 2.0 * (worldSize - 1) / worldSize * size * sizeof(ushort);
            Assert.InRange(outputs[0].BytesSent, payload - 16, payload + 2 * worldSize * 12 + 16);
        }
        finally
        {
            Dispose(ring);
        }
    }

    [Fact]
    public void All_reduce_sends_two_thirds_of_buffer_per_rank_for_three_ranks()
    {
        const int size = 300_000;
        var ring = LoopbackRing.Form(3);
        try
        {
            var sent = LoopbackRing.RunOnEveryRank(ring, r =>
            {
                r.AllReduceSum(new float[size]);
                return r.BytesSent;
            });

            // 2 (N − 1) / N of the buffer, plus one 12-byte frame header per transfer (2 (N − 1) transfers).
            var payload = 2L * 2 * size * sizeof(float) / 3;
            foreach (var bytes in sent)
            {
                Assert.InRange(bytes, payload - 8, payload + 4 * 12 + 8);
            }
        }
        finally
        {
            Dispose(ring);
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(3, 0)]
    [InlineData(4, 2)]
    [InlineData(5, 4)]
    public void Broadcast_copies_root_buffer_to_every_rank(int worldSize, int root)
    {
        var payload = RandomNumberGenerator.GetBytes(1_000_003);
        var ring = LoopbackRing.Form(worldSize);
        try
        {
            var received = LoopbackRing.RunOnEveryRank(ring, r =>
            {
                var buffer = r.Rank == root ? (byte[])payload.Clone() : new byte[payload.Length];
                r.Broadcast(buffer, root);
                return buffer;
            });

            foreach (var buffer in received)
            {
                Assert.Equal(payload, buffer);
            }
        }
        finally
        {
            Dispose(ring);
        }
    }

    [Fact]
    public void Barrier_waits_for_the_slowest_rank()
    {
        var ring = LoopbackRing.Form(3);
        try
        {
            var released = LoopbackRing.RunOnEveryRank(ring, r =>
            {
                if (r.Rank == 2)
                {
                    Thread.Sleep(500);
                }

                var clock = Stopwatch.StartNew();
                r.Barrier();
                return (r.Rank, clock.Elapsed);
            });

            Assert.True(released.Single(x => x.Rank == 0).Elapsed >= TimeSpan.FromMilliseconds(400), "rank 0 left the barrier before rank 2 entered it");
            Assert.True(released.Single(x => x.Rank == 1).Elapsed >= TimeSpan.FromMilliseconds(400), "rank 1 left the barrier before rank 2 entered it");
        }
        finally
        {
            Dispose(ring);
        }
    }

    [Fact]
    public void Closed_peer_fails_all_reduce_with_its_rank()
    {
        var ring = LoopbackRing.Form(3, new CollectiveOptions(TimeSpan.FromSeconds(5)));
        try
        {
            var outcomes = LoopbackRing.RunOnEveryRank(ring, r =>
            {
                if (r.Rank == 1)
                {
                    // Rank 1 dies mid-collective: its sockets close while the others are sending.
                    Thread.Sleep(200);
                    r.Dispose();
                    return null;
                }

                var clock = Stopwatch.StartNew();
                var error = Assert.Throws<CollectiveException>(() => r.AllReduceSum(new float[4_000_000]));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5.5), $"rank {r.Rank} took {clock.Elapsed} to fail");
                return error.Message;
            });

            // Rank 2 receives from rank 1 and must name it. Rank 0 only observes the failures of its neighbours.
            Assert.Contains("rank 1 at 127.0.0.1:", outcomes[2], StringComparison.Ordinal);
            Assert.Contains("failed on rank 0 of 3", outcomes[0], StringComparison.Ordinal);
        }
        finally
        {
            Dispose(ring);
        }
    }

    [Fact]
    public void Mismatched_frame_fails_instead_of_summing()
    {
        var ring = LoopbackRing.Form(2, new CollectiveOptions(TimeSpan.FromSeconds(5)));
        try
        {
            // Rank 1 calls the collective with a buffer one element shorter: its frames announce
            // a length that rank 0 does not expect, so neither rank may return a sum.
            var errors = LoopbackRing.RunOnEveryRank(ring, r =>
                Assert.Throws<CollectiveException>(() => r.AllReduceSum(new float[r.Rank == 0 ? 1000 : 999])).Message);

            // The rank whose expected length differs detects the frame, and the other finds the ring closed.
            Assert.Contains(errors, e => e.Contains("malformed all-reduce (reduce-scatter) frame", StringComparison.Ordinal));
            Assert.Contains("failed on rank 0 of 2", errors[0], StringComparison.Ordinal);
            Assert.Contains("failed on rank 1 of 2", errors[1], StringComparison.Ordinal);
        }
        finally
        {
            Dispose(ring);
        }
    }

    [Fact]
    public void Silent_peer_fails_all_reduce_within_timeout()
    {
        var timeout = TimeSpan.FromSeconds(2);
        var ring = LoopbackRing.Form(2, new CollectiveOptions(timeout));
        try
        {
            // Rank 1 is alive but never calls the collective, like a stopped process.
            var clock = Stopwatch.StartNew();
            var error = Assert.Throws<CollectiveException>(() => ring[0].AllReduceSum(new float[1000]));

            Assert.InRange(clock.Elapsed, timeout * 0.9, timeout * 3);
            Assert.Contains("rank 1", error.Message, StringComparison.Ordinal);
            Assert.Contains("did not answer", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Dispose(ring);
        }
    }

    [Fact]
    public async Task Wrong_secret_is_rejected_and_ring_still_forms()
    {
        var listeners = new[] { new DataPlaneListener(IPAddress.Loopback, 0), new DataPlaneListener(IPAddress.Loopback, 0) };
        var peers = listeners.Select(l => l.Endpoint).ToArray();
        var secret = RandomNumberGenerator.GetBytes(32);
        var rejections = new List<string>();
        var options = new CollectiveOptions(TimeSpan.FromSeconds(10));

        // Rank 0 starts forming; a stranger with another secret connects first, claiming to be rank 1.
        var rank0 = Task.Run(() => RingCollective.Form(listeners[0], 0, peers, secret, options, message => { lock (rejections) { rejections.Add(message); } }));
        var stranger = Task.Run(() => RingCollective.Form(
            new DataPlaneListener(IPAddress.Loopback, 0), 1, peers, RandomNumberGenerator.GetBytes(32), new CollectiveOptions(TimeSpan.FromSeconds(3))));
        var strangerError = await Assert.ThrowsAsync<CollectiveException>(() => stranger.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("rejected the handshake", strangerError.Message, StringComparison.Ordinal);

        var rank1 = Task.Run(() => RingCollective.Form(listeners[1], 1, peers, secret, options));
        using var ring0 = await rank0.WaitAsync(TimeSpan.FromSeconds(30));
        using var ring1 = await rank1.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Single(rejections);
        Assert.Contains("wrong run secret", rejections[0], StringComparison.Ordinal);
        var outputs = LoopbackRing.RunOnEveryRank([ring0, ring1], r =>
        {
            var buffer = new float[] { r.Rank + 1 };
            r.AllReduceSum(buffer);
            return buffer[0];
        });
        Assert.Equal([3f, 3f], outputs);
    }

    [Fact]
    public async Task Garbage_connection_is_rejected_without_breaking_formation()
    {
        var listeners = new[] { new DataPlaneListener(IPAddress.Loopback, 0), new DataPlaneListener(IPAddress.Loopback, 0) };
        var peers = listeners.Select(l => l.Endpoint).ToArray();
        var secret = RandomNumberGenerator.GetBytes(32);
        var rejections = new List<string>();
        var options = new CollectiveOptions(TimeSpan.FromSeconds(10));

        using (var garbage = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            garbage.Connect(IPAddress.Loopback, peers[0].Port);
            garbage.Send("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            var rank0 = Task.Run(() => RingCollective.Form(listeners[0], 0, peers, secret, options, message => { lock (rejections) { rejections.Add(message); } }));
            var rank1 = Task.Run(() => RingCollective.Form(listeners[1], 1, peers, secret, options));
            (await rank0.WaitAsync(TimeSpan.FromSeconds(30))).Dispose();
            (await rank1.WaitAsync(TimeSpan.FromSeconds(30))).Dispose();
        }

        Assert.Single(rejections);
        Assert.Contains("not a DeepGen data-plane client", rejections[0], StringComparison.Ordinal);
    }

    private static float[] RandomBuffer(int size, int seed)
    {
        var random = new Random(seed);
        var buffer = new float[size];
        for (var i = 0; i < size; i++)
        {
            buffer[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return buffer;
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static void Dispose(RingCollective[] ring)
    {
        foreach (var r in ring)
        {
            r.Dispose();
        }
    }
}
