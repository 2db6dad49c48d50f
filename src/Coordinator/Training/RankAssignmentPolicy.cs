using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Training;

/// <summary>A registered worker, in registration order.</summary>
public sealed record RegisteredWorker(string Path, RegisterWorker Registration);

/// <summary>Outcome of trying to form a run from the registered workers.</summary>
/// <param name="Ranks">The chosen workers, index = rank; empty while waiting.</param>
public sealed record AssignmentDecision(bool Ready, IReadOnlyList<RegisteredWorker> Ranks, string Reason);

/// <summary>
/// Picks the workers of a run: the first <c>worldSize</c> registered workers, in registration
/// order, get ranks 0, 1, …; the run waits while fewer are registered.
/// </summary>
public static class RankAssignmentPolicy
{
    public static AssignmentDecision Assign(IReadOnlyList<RegisteredWorker> registered, int worldSize)
    {
        if (registered.Count < worldSize)
        {
            return new AssignmentDecision(false, [], $"{registered.Count} of {worldSize} workers registered; waiting for {worldSize - registered.Count} more");
        }

        var duplicate = registered.GroupBy(w => w.Registration.DataPlane).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            return new AssignmentDecision(false, [], $"workers {string.Join(" and ", duplicate.Select(w => w.Registration.WorkerId))} advertise the same data-plane endpoint {duplicate.Key}; give each worker its own --data-plane-port");
        }

        var chosen = registered.Take(worldSize).ToList();
        var ranks = string.Join(", ", chosen.Select((w, rank) => $"rank {rank} = {w.Registration.WorkerId} ({w.Registration.DataPlane})"));
        var spare = registered.Count - worldSize;
        return new AssignmentDecision(true, chosen, spare == 0 ? ranks : $"{ranks}; {spare} spare worker(s) stay idle");
    }
}
