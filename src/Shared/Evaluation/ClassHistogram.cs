using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Evaluation;

/// <summary>
/// Histogram of the classes a classifier predicts for generated samples, and its entropy, as a check for mode
/// collapse. A generator that covers all classes evenly reaches the maximum entropy ln(classes).
/// </summary>
public static class ClassHistogram
{
    /// <summary>Counts the predicted class (the argmax of each row) of every sample.</summary>
    /// <param name="logits">Classifier outputs of shape [n, classes] in any real dtype. Rows may be logits or probabilities.</param>
    /// <param name="classes">Number of classes, at least 1; must equal the second size of <paramref name="logits"/>.</param>
    /// <returns>An array of length <paramref name="classes"/> whose entry c is the number of rows with argmax c.</returns>
    /// <exception cref="ArgumentException">
    /// The shape is not [n, classes], or the logits contain NaN or infinity.
    /// </exception>
    public static int[] Count(Tensor logits, int classes)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (logits.dim() != 2 || logits.shape[1] != classes)
        {
            throw new ArgumentException(
                $"logits has shape [{string.Join(", ", logits.shape)}], but it must have shape [n, {classes}].",
                nameof(logits));
        }

        using var scope = torch.NewDisposeScope();
        if (logits.is_floating_point() && !logits.isfinite().all().item<bool>())
        {
            throw new ArgumentException(
                "logits contains NaN or infinity, so the argmax class is undefined. Check the classifier's inputs.",
                nameof(logits));
        }

        var counts = new int[classes];
        if (logits.shape[0] == 0)
        {
            return counts;
        }

        var predicted = logits.argmax(1).to_type(ScalarType.Int64).cpu();
        foreach (var label in predicted.data<long>())
        {
            counts[label]++;
        }

        return counts;
    }

    /// <summary>
    /// Computes the entropy H = −Σ p_c ln p_c of a histogram in nats, with p_c = counts[c] / total and 0 · ln 0 = 0.
    /// </summary>
    /// <param name="counts">Count per class; each count must be non-negative.</param>
    /// <returns>A value from 0 (all samples in one class) to ln(counts.Count) (all classes equally frequent).</returns>
    /// <exception cref="ArgumentException">A count is negative or the total is 0.</exception>
    public static double Entropy(IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);

        long total = 0;
        for (var c = 0; c < counts.Count; c++)
        {
            if (counts[c] < 0)
            {
                throw new ArgumentException($"counts[{c}] is {counts[c]}, but counts must be non-negative.", nameof(counts));
            }

            total += counts[c];
        }

        if (total == 0)
        {
            throw new ArgumentException(
                $"counts has {counts.Count} entries that sum to 0, so the class frequencies are undefined. " +
                "Pass the histogram of at least one sample.",
                nameof(counts));
        }

        double entropy = 0;
        foreach (var count in counts)
        {
            if (count == 0)
            {
                continue;
            }

            var probability = (double)count / total;
            entropy -= probability * Math.Log(probability);
        }

        return entropy;
    }
}
