using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using DeepGen.Distributed.Collectives;

namespace DeepGen.Distributed.Coordinator.Benchmarks;

/// <summary>One all-reduce measurement: median time and bus bandwidth, next to a plain socket transfer of the same buffer.</summary>
/// <param name="BusBandwidthMBps">Bytes × 2(N−1)/N ÷ time: the rate each rank's link carried, comparable across world sizes.</param>
/// <param name="SocketMilliseconds">Median time of one plain loopback socket transfer of the same number of bytes, measured in the same run.</param>
public sealed record AllReduceResult(int WorldSize, long Bytes, double Milliseconds, double BusBandwidthMBps, double SocketMilliseconds);

/// <summary>
/// Times the ring all-reduce between threads of this process over real loopback TCP, and one plain
/// socket transfer of the same size, so that the ratio between the two is measured on the same
/// machine at the same time.
/// </summary>
public static class AllReduceBenchmark
{
    public static AllReduceResult Measure(int worldSize, long bytes, int iterations, WireFormat wire = WireFormat.Fp32)
    {
        var floats = checked((int)(bytes / sizeof(float)));
        var ring = FormRing(worldSize, wire);
        try
        {
            var times = RunOnEveryRank(ring, r =>
            {
                var buffer = new float[floats];
                var samples = new List<double>();
                for (var i = 0; i < iterations + 3; i++)
                {
                    r.Barrier();
                    var clock = Stopwatch.StartNew();
                    r.AllReduceSum(buffer);
                    if (i >= 3)
                    {
                        samples.Add(clock.Elapsed.TotalMilliseconds);
                    }
                }

                return samples;
            });

            // A collective ends when its slowest rank ends: take the maximum over ranks per iteration.
            var perIteration = Enumerable.Range(0, iterations).Select(i => times.Max(t => t[i])).ToList();
            var median = Median(perIteration);
            var busBytes = worldSize == 1 ? 0 : bytes * 2.0 * (worldSize - 1) / worldSize;
            return new AllReduceResult(worldSize, bytes, median, busBytes / 1e6 / (median / 1e3), SocketTransfer(bytes, iterations));
        }
        finally
        {
            foreach (var r in ring)
            {
                r.Dispose();
            }
        }
    }

    /// <summary>Median time of sending <paramref name="bytes"/> from one loopback socket to another and receiving them all.</summary>
    public static double SocketTransfer(long bytes, int iterations)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendBufferSize = 4 << 20 };
        sender.Connect(listener.LocalEndPoint!);
        using var receiver = listener.Accept();
        receiver.ReceiveBufferSize = 4 << 20;
        var payload = new byte[bytes];
        var incoming = new byte[bytes];
        var samples = new List<double>();
        for (var i = 0; i < iterations + 3; i++)
        {
            var clock = Stopwatch.StartNew();
            var sending = Task.Run(() => sender.Send(payload));
            var received = 0;
            while (received < incoming.Length)
            {
                received += receiver.Receive(incoming, received, incoming.Length - received, SocketFlags.None);
            }

            sending.Wait();
            if (i >= 3)
            {
                samples.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        return Median(samples);
    }

    internal static RingCollective[] FormRing(int worldSize, WireFormat wire)
    {
        var listeners = Enumerable.Range(0, worldSize).Select(_ => new DataPlaneListener(IPAddress.Loopback, 0)).ToArray();
        var peers = listeners.Select(l => l.Endpoint).ToArray();
        var secret = RandomNumberGenerator.GetBytes(32);
        var options = new CollectiveOptions(TimeSpan.FromSeconds(60)) { Wire = wire };
        var forming = Enumerable.Range(0, worldSize)
            .Select(rank => Task.Factory.StartNew(() => RingCollective.Form(listeners[rank], rank, peers, secret, options), TaskCreationOptions.LongRunning))
            .ToArray();
        Task.WaitAll(forming);
        return forming.Select(t => t.Result).ToArray();
    }

    internal static T[] RunOnEveryRank<T>(RingCollective[] ring, Func<RingCollective, T> body)
    {
        var tasks = ring.Select(r => Task.Factory.StartNew(() => body(r), TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
        return tasks.Select(t => t.Result).ToArray();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
