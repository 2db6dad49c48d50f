namespace DeepGen.Distributed.Coordinator.Training;

/// <summary>A rank that has been slower than the median for the configured number of steps in a row.</summary>
/// <param name="Rank">The slow rank.</param>
/// <param name="Step">Step at which the rank reached the limit.</param>
/// <param name="StepSeconds">The rank's time for <paramref name="Step"/>.</param>
/// <param name="MedianSeconds">Median over all ranks' times for <paramref name="Step"/>.</param>
/// <param name="ConsecutiveSteps">Steps in a row the rank has exceeded the limit.</param>
public sealed record StragglerWarning(int Rank, long Step, double StepSeconds, double MedianSeconds, int ConsecutiveSteps)
{
    /// <summary>Ratio of the rank's step time to the median.</summary>
    public double Ratio => MedianSeconds > 0 ? StepSeconds / MedianSeconds : double.PositiveInfinity;
}

/// <summary>Outcome of one step's check.</summary>
/// <param name="Stragglers">Ranks currently over the limit for at least the configured number of steps, ascending.</param>
/// <param name="NewWarnings">Ranks that reached the limit at this step: warn about these once, until they recover.</param>
public sealed record StragglerDecision(IReadOnlyList<int> Stragglers, IReadOnlyList<StragglerWarning> NewWarnings);

/// <summary>
/// Flags a straggler: a rank whose step time exceeds <c>factor</c> × the median of all ranks' times
/// of that step for <c>consecutiveSteps</c> steps in a row. A rank is warned about once per slow
/// streak and leaves the straggler list at the first step within the limit.
/// </summary>
/// <remarks>
/// The median includes the slow rank itself. With two ranks the median is their mean, so a factor
/// f flags a rank only when it is more than f / (2 − f) times slower than the other (3× for f = 1.5),
/// and a factor of 2 or more never flags anyone.
/// </remarks>
public sealed class StragglerPolicy
{
    private readonly Dictionary<int, int> _streaks = [];

    /// <param name="factor">Multiple of the median step time above which a rank counts as slow; above 1.</param>
    /// <param name="consecutiveSteps">Slow steps in a row before a rank is flagged; at least 1.</param>
    public StragglerPolicy(double factor, int consecutiveSteps)
    {
        if (!(factor > 1) || double.IsInfinity(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The straggler factor must be a finite number above 1.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(consecutiveSteps, 1);
        Factor = factor;
        ConsecutiveSteps = consecutiveSteps;
    }

    public double Factor { get; }

    public int ConsecutiveSteps { get; }

    /// <summary>Checks one step, given every rank's time for it.</summary>
    /// <param name="step">Global step number, for the warnings.</param>
    /// <param name="stepSecondsByRank">Each rank's step time in seconds, indexed by rank.</param>
    public StragglerDecision Observe(long step, IReadOnlyList<double> stepSecondsByRank)
    {
        if (stepSecondsByRank.Count == 0)
        {
            return new StragglerDecision([], []);
        }

        var median = Median(stepSecondsByRank);
        var limit = Factor * median;
        var stragglers = new List<int>();
        var warnings = new List<StragglerWarning>();
        for (var rank = 0; rank < stepSecondsByRank.Count; rank++)
        {
            if (!(stepSecondsByRank[rank] > limit))
            {
                _streaks.Remove(rank);
                continue;
            }

            var streak = _streaks.GetValueOrDefault(rank) + 1;
            _streaks[rank] = streak;
            if (streak >= ConsecutiveSteps)
            {
                stragglers.Add(rank);
            }

            if (streak == ConsecutiveSteps)
            {
                warnings.Add(new StragglerWarning(rank, step, stepSecondsByRank[rank], median, streak));
            }
        }

        return new StragglerDecision(stragglers, warnings);
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
