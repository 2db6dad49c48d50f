using Akka.Actor;
using DeepGen.Distributed.Coordinator.Sweeps;
using DeepGen.Distributed.Coordinator.Sweeps.Execution;
using DeepGen.Distributed.Coordinator.Sweeps.Output;

namespace DeepGen.Distributed.Tests.Sweeps;

/// <summary>Starts a sweep scheduler in a test actor system and waits for conditions with a bound.</summary>
internal sealed class SweepUnderTest : IAsyncDisposable
{
    private readonly ActorSystem _system;

    public SweepUnderTest(SweepPlan plan, SweepStore store, ITrialRunner runner, int slots)
    {
        _system = ActorSystem.Create("sweep-test");
        Store = store;
        var saved = store.LoadState();
        Scheduler = _system.ActorOf(SweepSchedulerActor.Props(plan, store, runner, slots, saved), "sweep-scheduler");
        Finished = Scheduler.Ask<SweepFinished>(RunSweep.Instance, TimeSpan.FromMinutes(3));
    }

    public IActorRef Scheduler { get; }

    public SweepStore Store { get; }

    public Task<SweepFinished> Finished { get; }

    /// <summary>Stops the scheduler's actor system without letting the sweep finish, like a killed coordinator.</summary>
    public async Task KillAsync() => await _system.Terminate();

    public async ValueTask DisposeAsync() => await _system.Terminate();

    /// <summary>Polls the saved state until <paramref name="condition"/> holds; fails the test after <paramref name="timeout"/>.</summary>
    public async Task<SweepState> WaitForStateAsync(Func<SweepState, bool> condition, TimeSpan timeout, string description)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (Store.LoadState() is { } state && condition(state))
                {
                    return state;
                }
            }
            catch (Exception error) when (error is IOException or System.Text.Json.JsonException)
            {
                // The file was being replaced; read it again on the next poll.
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"the sweep state never showed {description} within {timeout.TotalSeconds:0} s");
    }
}
