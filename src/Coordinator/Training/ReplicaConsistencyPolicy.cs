namespace DeepGen.Distributed.Coordinator.Training;

/// <summary>Outcome of comparing the replicas' parameter checksums.</summary>
/// <param name="Consistent">True when every rank reported the same checksum.</param>
/// <param name="DivergedRanks">Ranks whose checksum differs from the most common one, ascending.</param>
/// <param name="Reason">Human-readable explanation for the log.</param>
public sealed record ConsistencyDecision(bool Consistent, IReadOnlyList<int> DivergedRanks, string Reason);

/// <summary>
/// Decides whether replicas are still identical. Replicas that apply the same all-reduced
/// gradients with the same optimizer stay bitwise equal, so any difference is a bug or a fault
/// (a lost update, a corrupted transfer) and the run must stop.
/// </summary>
public static class ReplicaConsistencyPolicy
{
    /// <param name="checksums">SHA-256 of each rank's parameters, indexed by rank.</param>
    /// <param name="step">Step after which the checksums were taken, for the reason text.</param>
    public static ConsistencyDecision Check(IReadOnlyList<string> checksums, long step)
    {
        if (checksums.Count == 0)
        {
            throw new ArgumentException("At least one checksum is needed.", nameof(checksums));
        }

        var majority = checksums
            .GroupBy(c => c, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => checksums.ToList().IndexOf(g.Key))
            .First().Key;
        var diverged = Enumerable.Range(0, checksums.Count).Where(rank => checksums[rank] != majority).ToList();
        if (diverged.Count == 0)
        {
            return new ConsistencyDecision(true, diverged, $"all {checksums.Count} replicas have parameter checksum {Short(majority)} after step {step}");
        }

        var details = string.Join(", ", diverged.Select(rank => $"rank {rank} has {Short(checksums[rank])}"));
        return new ConsistencyDecision(false, diverged, $"replicas diverged after step {step}: {details}, the others have {Short(majority)}");
    }

    private static string Short(string checksum) => checksum.Length > 12 ? checksum[..12] : checksum;
}
