using System.Globalization;

namespace DeepGen.Distributed.Coordinator.Sweeps.Spec;

/// <summary>How a parameter's values are given.</summary>
public enum DistributionKind
{
    /// <summary>Listed values; grid search takes each, random search draws one uniformly.</summary>
    Grid,

    /// <summary>Listed values drawn uniformly; grid search takes each, like <see cref="Grid"/>.</summary>
    Choice,

    /// <summary>Real number drawn uniformly from [low, high).</summary>
    Uniform,

    /// <summary>Real number whose logarithm is drawn uniformly from [ln low, ln high); both bounds are positive.</summary>
    LogUniform,

    /// <summary>Integer drawn uniformly from low to high inclusive; grid search takes every integer in the range.</summary>
    IntegerRange,
}

/// <summary>One searched parameter of a sweep.</summary>
/// <param name="Name">Setting name, as in <see cref="ConfigSettings"/> (for example <c>lr</c>, <c>beta</c>).</param>
/// <param name="Values">Grid or choice values in invariant-culture text; empty for ranges.</param>
/// <param name="Low">Lower bound of a range.</param>
/// <param name="High">Upper bound of a range (inclusive for integers).</param>
/// <param name="Line">Line of the parameter in the spec file, from 1.</param>
public sealed record SweepParameter(string Name, DistributionKind Kind, IReadOnlyList<string> Values, double Low, double High, int Line)
{
    /// <summary>Most integers that grid search enumerates from one integer range.</summary>
    public const int MaxGridIntegers = 1_000;

    /// <summary>True when grid search can enumerate the parameter.</summary>
    public bool IsDiscrete => Kind is DistributionKind.Grid or DistributionKind.Choice or DistributionKind.IntegerRange;

    /// <summary>Every value of a discrete parameter, in order.</summary>
    /// <exception cref="InvalidOperationException">The parameter is a continuous range.</exception>
    public IReadOnlyList<string> Enumerate() => Kind switch
    {
        DistributionKind.Grid or DistributionKind.Choice => Values,
        DistributionKind.IntegerRange => Enumerable.Range(0, (int)(High - Low) + 1).Select(i => ((long)Low + i).ToString(CultureInfo.InvariantCulture)).ToList(),
        _ => throw new InvalidOperationException($"Parameter {Name} is a continuous range; grid search cannot enumerate it."),
    };

    /// <summary>Draws one value; consumes exactly one number from <paramref name="random"/>.</summary>
    public string Draw(Random random)
    {
        var u = random.NextDouble();
        return Kind switch
        {
            DistributionKind.Grid or DistributionKind.Choice => Values[Math.Min((int)(u * Values.Count), Values.Count - 1)],
            DistributionKind.Uniform => Format(Low + (u * (High - Low))),
            DistributionKind.LogUniform => Format(Math.Exp(Math.Log(Low) + (u * (Math.Log(High) - Math.Log(Low))))),
            DistributionKind.IntegerRange => ((long)Math.Min(Low + Math.Floor(u * (High - Low + 1)), High)).ToString(CultureInfo.InvariantCulture),
            _ => throw new InvalidOperationException($"Unknown distribution {Kind}."),
        };
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
