using DeepGen.Distributed.Coordinator.Output;

namespace DeepGen.Distributed.Coordinator.Evaluation;

/// <summary>
/// Measures a weight snapshot of one model family on held-out data. Implementations run on the
/// calling thread and hold their own copy of the networks, never a training replica.
/// </summary>
public interface IEvaluator : IDisposable
{
    /// <summary>Returns the family's evaluation metrics, in <see cref="Configuration.ModelFamily.EvaluationMetrics"/> order.</summary>
    /// <exception cref="InvalidDataException">The weights do not fit the architecture.</exception>
    IReadOnlyList<double> Evaluate(ReadOnlySpan<byte> weights);

    /// <summary>Writes the family's PNG grids for <paramref name="epoch"/> into the run folder.</summary>
    void WriteImages(ReadOnlySpan<byte> weights, RunOutput output, int epoch);
}
