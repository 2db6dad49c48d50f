using System.Collections.Concurrent;

namespace DeepGen.Distributed.Training;

/// <summary>
/// One dedicated thread that runs every piece of a replica's libtorch work in order. libtorch's
/// grad mode and TorchSharp's dispose scopes are per thread, so a replica must never move between
/// thread-pool threads.
/// </summary>
public sealed class TrainingThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public TrainingThread(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Queues <paramref name="work"/>; it runs after everything queued before it.</summary>
    public void Post(Action work) => _work.Add(work);

    /// <summary>Stops accepting work and waits for the queued work to finish.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _work.Dispose();
    }

    private void Run()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }
}
