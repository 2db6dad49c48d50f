using DeepGen.Distributed.Configuration;

namespace DeepGen.Distributed.Coordinator.Sweeps.Search;

/// <summary>One point of the search space.</summary>
/// <param name="Id">Stable id such as <c>trial-003</c>; also the name of the trial's run folder.</param>
/// <param name="Parameters">Searched setting values in invariant-culture text, in spec order.</param>
/// <param name="Config">The base configuration with <paramref name="Parameters"/> applied.</param>
public sealed record TrialDefinition(string Id, IReadOnlyDictionary<string, string> Parameters, TrainingConfig Config)
{
    /// <summary>The id of the trial with zero-based index <paramref name="index"/>.</summary>
    public static string IdOf(int index) => $"trial-{index:D3}";
}
