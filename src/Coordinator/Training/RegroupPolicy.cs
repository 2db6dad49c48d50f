using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Training;

/// <summary>Position of a run: the last step that every replica of the next ring will have applied.</summary>
/// <param name="Step">Last applied step (0 before the first).</param>
/// <param name="Epoch">Epoch that the next step belongs to.</param>
/// <param name="Position">Samples of <paramref name="Epoch"/> already trained on.</param>
public sealed record TrainingPosition(long Step, int Epoch, long Position);

/// <summary>Outcome of a regroup: the state to continue from and the members of the next ring.</summary>
/// <param name="Source">The surviving member whose state every rank copies; null when none is usable.</param>
/// <param name="Members">Members of the next ring, index = rank; survivors first, in their old rank order, then new workers.</param>
/// <param name="Pause">True when fewer than the run's minimum workers are available.</param>
public sealed record RegroupDecision(RegisteredWorker? Source, TrainingPosition Resume, IReadOnlyList<RegisteredWorker> Members, bool Pause, string Reason);

/// <summary>
/// Decides how a run continues after its ring stopped (a member was lost, or a worker joins).
/// Every survivor reports the last step it applied. The survivor that applied the most steps and
/// vouches for its state becomes the source. Survivors may differ by one step, because the ring
/// all-reduce can finish on some ranks and not on others when a peer dies during it. The new ring
/// copies the source's weights and optimizer state to every rank. The run therefore continues
/// after the source's last step, and no step is lost or applied twice.
/// </summary>
public static class RegroupPolicy
{
    /// <param name="survivors">Members that reported where they stopped, with their reports.</param>
    /// <param name="generationStart">Where the stopped generation started; a member that applied no step in it is there.</param>
    /// <param name="free">Registered workers outside the run, in registration order.</param>
    public static RegroupDecision Decide(
        IReadOnlyList<(RegisteredWorker Worker, RingStopped Report)> survivors,
        TrainingPosition generationStart,
        IReadOnlyList<RegisteredWorker> free,
        int maxWorkers,
        int minWorkers)
    {
        var candidates = survivors
            .Where(s => s.Report.Consistent)
            .Select(s => (s.Worker, s.Report.Rank, Position: s.Report.LastCompletedStep < 0
                ? generationStart
                : new TrainingPosition(s.Report.LastCompletedStep, s.Report.Epoch, s.Report.Position)))
            .OrderByDescending(c => c.Position.Step)
            .ThenBy(c => c.Rank)
            .ToList();
        if (candidates.Count == 0)
        {
            return new RegroupDecision(null, generationStart, [], false,
                survivors.Count == 0
                    ? "no member of the ring survived"
                    : $"none of the {survivors.Count} surviving replicas holds a state it can vouch for");
        }

        var source = candidates[0];
        var members = survivors.OrderBy(s => s.Report.Rank).Select(s => s.Worker).ToList();
        var joining = free.Take(Math.Max(0, maxWorkers - members.Count)).ToList();
        members.AddRange(joining);
        var behind = candidates.Count(c => c.Position.Step < source.Position.Step);
        var reason = $"continuing after step {source.Position.Step} from {source.Worker.Registration.WorkerId} (rank {source.Rank}), the survivor with the most applied steps"
            + (behind > 0 ? $"; {behind} survivor(s) one step behind copy its state" : "")
            + (joining.Count > 0 ? $"; {joining.Count} worker(s) join: {string.Join(", ", joining.Select(w => w.Registration.WorkerId))}" : "")
            + $"; world size {members.Count}";
        if (members.Count < minWorkers)
        {
            return new RegroupDecision(source.Worker, source.Position, members, true,
                $"{members.Count} worker(s) available, below --min-workers {minWorkers}; the run pauses after step {source.Position.Step} until more workers register");
        }

        return new RegroupDecision(source.Worker, source.Position, members, false, reason);
    }
}
