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
    private readonly Action<Exception> _onUnhandled;

    /// <param name="onUnhandled">
    /// Receives any exception that a work item lets escape. It must not throw. An unhandled
    /// exception on a thread would end the process, so it never reaches the runtime.
    /// </param>
    public TrainingThread(string name, Action<Exception> onUnhandled)
    {
        _onUnhandled = onUnhandled;
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
            try
            {
                work();
            }
            catch (Exception error)
            {
                _onUnhandled(error);
            }
        }
    }
}
