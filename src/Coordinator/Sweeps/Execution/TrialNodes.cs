using Akka.Actor;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Sweeps.Execution;

/// <summary>The coordinator and workers that run one trial; disposing them ends the trial's run.</summary>
public interface ITrialNodes : IAsyncDisposable
{
    /// <summary>Runs the trial to its end and returns <see cref="RunCompleted"/> or <see cref="RunFailed"/>.</summary>
    Task<object> RunAsync(StartRun start, CancellationToken cancellation);
}

/// <summary>A trial on its own <see cref="LocalCluster"/>: a coordinator node and one worker node per slot in this process.</summary>
/// <param name="heartbeatPause">Acceptable heartbeat pause of the trial's nodes.</param>
public sealed class OwnClusterNodes(int workers, string logLevel, TimeSpan heartbeatPause) : ITrialNodes
{
    private LocalCluster? _cluster;

    public async Task<object> RunAsync(StartRun start, CancellationToken cancellation)
    {
        _cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, logLevel, heartbeatPause: heartbeatPause);
        _cluster.StartWorkers(workers, logLevel);
        return await _cluster.RunAsync(start, cancellation).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// A trial on long-lived worker nodes of the sweep's cluster: a coordinator actor for this trial
/// on the sweep's coordinator node, given the workers that serve the trial's slots in the
/// <see cref="WorkerPoolActor"/>. The workers' datasets and connections outlive the trial, so
/// starting or resuming a trial costs no node start-up.
/// </summary>
public sealed class PooledTrialNodes(ActorSystem system, IActorRef pool, TrialLaunch launch) : ITrialNodes
{
    private static int _instances;
    private IActorRef? _coordinator;

    public async Task<object> RunAsync(StartRun start, CancellationToken cancellation)
    {
        var name = $"trial-{new string(launch.TrialId.Where(char.IsAsciiLetterOrDigit).ToArray())}-{Interlocked.Increment(ref _instances)}";
        _coordinator = system.ActorOf(CoordinatorActor.Props(), name);
        foreach (var slot in launch.Slots)
        {
            var worker = await pool.Ask<PooledWorker>(new GetSlotWorker(slot), TimeSpan.FromSeconds(30), cancellation).ConfigureAwait(false);

            // The registration reaches the trial's coordinator as if the worker had sent it, so
            // the coordinator watches the worker and the worker replies to the coordinator.
            _coordinator.Tell(worker.Registration, worker.Worker);
        }

        return await _coordinator.Ask<object>(start, Timeout.InfiniteTimeSpan, cancellation).ConfigureAwait(false);
    }

    /// <summary>Stops the trial's coordinator, which sends its workers back to idle.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_coordinator is null)
        {
            return;
        }

        try
        {
            await _coordinator.GracefulStop(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (TaskCanceledException)
        {
            // The actor is stopping anyway; its workers got LeaveRun from its PostStop.
        }
    }
}
