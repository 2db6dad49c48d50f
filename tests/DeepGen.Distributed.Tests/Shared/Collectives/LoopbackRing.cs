using System.Net;
using System.Security.Cryptography;
using DeepGen.Distributed.Collectives;

namespace DeepGen.Distributed.Tests.Collectives;

/// <summary>Forms rings of real TCP connections between threads of the test process, on 127.0.0.1.</summary>
internal static class LoopbackRing
{
    public static RingCollective[] Form(int worldSize, CollectiveOptions? options = null)
    {
        var listeners = Enumerable.Range(0, worldSize).Select(_ => new DataPlaneListener(IPAddress.Loopback, 0)).ToArray();
        var peers = listeners.Select(l => l.Endpoint).ToArray();
        var secret = RandomNumberGenerator.GetBytes(32);
        var forming = Enumerable.Range(0, worldSize)
            .Select(rank => Task.Run(() => RingCollective.Form(listeners[rank], rank, peers, secret, options ?? new CollectiveOptions(TimeSpan.FromSeconds(20)))))
            .ToArray();
        Task.WaitAll(forming, TimeSpan.FromSeconds(60));
        return forming.Select(t => t.Result).ToArray();
    }

    /// <summary>Runs <paramref name="body"/> on every rank at once, each on its own thread.</summary>
    public static T[] RunOnEveryRank<T>(RingCollective[] ring, Func<RingCollective, T> body)
    {
        var tasks = ring.Select(r => Task.Factory.StartNew(() => body(r), TaskCreationOptions.LongRunning)).ToArray();
        if (!Task.WaitAll(tasks, TimeSpan.FromSeconds(120)))
        {
            throw new TimeoutException("a rank did not finish within 120 s");
        }

        return tasks.Select(t => t.Result).ToArray();
    }
}
