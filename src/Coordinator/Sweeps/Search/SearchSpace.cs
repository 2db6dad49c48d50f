using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Coordinator.Sweeps.Search;

/// <summary>Turns a spec's parameters into the list of trials to run.</summary>
public static class SearchSpace
{
    /// <summary>
    /// Returns the trials of <paramref name="spec"/>, at most <see cref="SweepBudget.MaxTrials"/>
    /// (0 = no limit). Grid search takes the cartesian product with the first parameter varying
    /// slowest. Random search draws every parameter of every trial from one
    /// <see cref="Random"/> seeded with <see cref="SweepSearch.Seed"/>, so the same seed gives the
    /// same trials on every run of the same .NET version.
    /// </summary>
    public static IReadOnlyList<TrialDefinition> Expand(SweepSpec spec)
    {
        var points = spec.Search.Kind == SearchKind.Grid ? Grid(spec.Parameters) : Sample(spec.Parameters, spec.Search.Seed, spec.Search.Samples);
        if (spec.Budget.MaxTrials > 0)
        {
            points = points.Take(spec.Budget.MaxTrials);
        }

        return [.. points.Select((values, index) => new TrialDefinition(TrialDefinition.IdOf(index), values, ConfigSettings.ApplyAll(spec.Base, values)))];
    }

    /// <summary>The number of grid points before the budget cuts them.</summary>
    public static long GridSize(IReadOnlyList<SweepParameter> parameters) =>
        parameters.Aggregate(1L, (product, p) => product * p.Enumerate().Count);

    private static IEnumerable<IReadOnlyDictionary<string, string>> Grid(IReadOnlyList<SweepParameter> parameters)
    {
        IEnumerable<Dictionary<string, string>> points = [new Dictionary<string, string>(StringComparer.Ordinal)];
        foreach (var parameter in parameters)
        {
            var values = parameter.Enumerate();
            points = points.SelectMany(point => values.Select(value => new Dictionary<string, string>(point, StringComparer.Ordinal) { [parameter.Name] = value }));
        }

        return points;
    }

    private static IEnumerable<IReadOnlyDictionary<string, string>> Sample(IReadOnlyList<SweepParameter> parameters, int seed, int samples)
    {
        var random = new Random(seed);
        for (var i = 0; i < samples; i++)
        {
            var point = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var parameter in parameters)
            {
                point[parameter.Name] = parameter.Draw(random);
            }

            yield return point;
        }
    }
}
