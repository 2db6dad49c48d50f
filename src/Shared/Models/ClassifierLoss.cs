using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>Training loss of a <see cref="ClassifierCnn"/>, written as a batch sum so that data-parallel ranks can
/// add their shares.</summary>
public static class ClassifierLoss
{
    /// <summary>Computes the summed cross-entropy −Σ_i log softmax(logits_i)[y_i] over the rows of a batch.</summary>
    /// <remarks>With one-hot targets y_ic, dividing this sum by the global batch size n gives the cross-entropy
    /// −(1/n) Σ_i Σ_c y_ic log ŷ_ic, where ŷ_i = softmax(logits_i). In data-parallel training each rank divides its
    /// own sum by n, so summing the ranks' losses, or their gradients, gives the mean over the global batch. The
    /// softmax is evaluated as log_softmax, which stays finite for large logits.</remarks>
    /// <param name="logits">Unnormalised class scores, shape [B, C].</param>
    /// <param name="labels">Class indices y_i in 0..C−1, int64, shape [B].</param>
    /// <returns>A scalar tensor in nats, attached to the autograd graph of <paramref name="logits"/>.</returns>
    /// <exception cref="ArgumentException">The shapes do not match or <paramref name="labels"/> is not int64.</exception>
    public static Tensor CrossEntropySum(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (logits.dim() != 2)
        {
            throw new ArgumentException(
                $"logits have shape [{string.Join(", ", logits.shape)}], but cross-entropy expects [B, C] with one row per example. " +
                "Reshape the batch to two dimensions.",
                nameof(logits));
        }

        if (labels.dim() != 1 || labels.shape[0] != logits.shape[0])
        {
            throw new ArgumentException(
                $"labels have shape [{string.Join(", ", labels.shape)}], but the logits need [{logits.shape[0]}], one class index per row.",
                nameof(labels));
        }

        if (labels.dtype != ScalarType.Int64)
        {
            throw new ArgumentException(
                $"labels have type {labels.dtype}, but class indices must be Int64. Convert them with .to(ScalarType.Int64).",
                nameof(labels));
        }

        return nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum);
    }
}
