using DeepGen.Distributed.Training;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>Cost functions and the weight penalty used to train the models, written out from their formulas.</summary>
/// <remarks>Every method returns a new tensor that stays attached to the autograd graph of its inputs.</remarks>
public static class Losses
{
    /// <summary>Smallest probability passed to the logarithm in <see cref="CrossEntropy"/>, so that a zero
    /// probability gives a large finite loss instead of −∞ and NaN.</summary>
    public const double ProbabilityFloor = 1e-12;

    /// <summary>Computes the mean squared error MSE = (1/n) Σ_i (y_i − ŷ_i)², averaged over all n elements.</summary>
    /// <param name="prediction">ŷ, any shape.</param>
    /// <param name="target">y, same shape as <paramref name="prediction"/>.</param>
    /// <returns>A scalar tensor.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Tensor MeanSquaredError(Tensor prediction, Tensor target)
    {
        RequireSameShape(prediction, target, nameof(prediction), nameof(target));

        using var error = target - prediction;
        using var squared = error.square();
        return squared.mean();
    }

    /// <summary>Computes the cross-entropy over C classes, −(1/n) Σ_i Σ_c y_ic log ŷ_ic, where n is the number
    /// of rows.</summary>
    /// <remarks>ŷ is clamped to [<see cref="ProbabilityFloor"/>, 1] before the logarithm. A class with
    /// y_ic = 0 then contributes exactly 0 (the limit 0·log 0 = 0), and a target class with ŷ_ic = 0 costs
    /// −log(<see cref="ProbabilityFloor"/>) ≈ 27.6 nats instead of infinity.</remarks>
    /// <param name="probabilities">ŷ, shape [n, C], each row a probability distribution.</param>
    /// <param name="oneHot">y, shape [n, C], one-hot class labels.</param>
    /// <returns>A scalar tensor, in nats.</returns>
    /// <exception cref="ArgumentException">The shapes differ or are not two-dimensional.</exception>
    public static Tensor CrossEntropy(Tensor probabilities, Tensor oneHot)
    {
        RequireSameShape(probabilities, oneHot, nameof(probabilities), nameof(oneHot));
        if (probabilities.dim() != 2)
        {
            throw new ArgumentException(
                $"{nameof(probabilities)} has shape [{string.Join(", ", probabilities.shape)}], but cross-entropy expects " +
                "[n, C] with one row per example. Reshape the batch to two dimensions.",
                nameof(probabilities));
        }

        using var clamped = probabilities.clamp(ProbabilityFloor, 1.0);
        using var logProbabilities = clamped.log();
        using var weighted = oneHot * logProbabilities;
        using var total = weighted.sum();
        return total.div(-probabilities.shape[0]);
    }

    /// <summary>Computes the discrete Kullback-Leibler divergence KL(P‖Q) = Σ_i P(i) log(P(i)/Q(i)) over the
    /// last dimension.</summary>
    /// <remarks>Terms with P(i) = 0 contribute 0 (the limit 0·log(0/q) = 0), even where Q(i) = 0. A term with
    /// P(i) &gt; 0 and Q(i) = 0 makes the divergence +∞, as the definition requires. The divergence is not
    /// symmetric: KL(P‖Q) and KL(Q‖P) differ in general.</remarks>
    /// <param name="p">P, shape [..., K], each slice along the last dimension a probability distribution.</param>
    /// <param name="q">Q, same shape as <paramref name="p"/>.</param>
    /// <returns>One divergence per distribution, in nats, with the leading shape [...] (a scalar for 1-D inputs).</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Tensor KlDivergence(Tensor p, Tensor q)
    {
        RequireSameShape(p, q, nameof(p), nameof(q));

        // xlogy(a, b) = a·log b, defined as 0 where a = 0 whatever b is.
        using var entropyTerms = p.xlogy(p);
        using var crossTerms = p.xlogy(q);
        using var terms = entropyTerms - crossTerms;
        return terms.sum(-1);
    }

    /// <summary>Computes KL(N(μ, diag σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²), summed over the latent
    /// dimension and over the batch.</summary>
    /// <param name="mean">μ, shape [B, L].</param>
    /// <param name="logVariance">log σ², same shape as <paramref name="mean"/>.</param>
    /// <returns>A scalar tensor: the sum over the batch of each example's divergence, in nats.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Tensor GaussianKlToStandardNormal(Tensor mean, Tensor logVariance)
    {
        RequireSameShape(mean, logVariance, nameof(mean), nameof(logVariance));

        using var variance = logVariance.exp();
        using var squaredMean = mean.square();
        using var onePlusLogVariance = logVariance + 1.0;
        using var minusSquaredMean = onePlusLogVariance - squaredMean;
        using var terms = minusSquaredMean - variance;
        using var total = terms.sum();
        return total.Times(-0.5);
    }

    /// <summary>Computes −log p(x|z) for a Bernoulli decoder:
    /// Σ −[x log sigmoid(ℓ) + (1 − x) log(1 − sigmoid(ℓ))], summed over the batch and the pixels.</summary>
    /// <remarks>Uses binary_cross_entropy_with_logits, which evaluates the sum from the logits ℓ without
    /// forming sigmoid(ℓ), so large |ℓ| neither underflows nor produces log 0.</remarks>
    /// <param name="logits">ℓ, decoder logits, shape [B, D].</param>
    /// <param name="target">x, pixel values in [0, 1], same shape as <paramref name="logits"/>.</param>
    /// <returns>A scalar tensor: the batch sum, in nats.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Tensor BernoulliReconstruction(Tensor logits, Tensor target)
    {
        RequireSameShape(logits, target, nameof(logits), nameof(target));

        return nn.functional.binary_cross_entropy_with_logits(logits, target, reduction: nn.Reduction.Sum);
    }

    /// <summary>Computes the L2 penalty λ Σ_j ‖w_j‖², the sum of the squares of every element of every tensor.</summary>
    /// <param name="weights">Tensors w_j to penalise, usually the weight matrices of a model.</param>
    /// <param name="lambda">λ, at least 0.</param>
    /// <returns>A scalar tensor, which is 0 when <paramref name="weights"/> is empty.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite.</exception>
    public static Tensor L2Penalty(IEnumerable<Tensor> weights, double lambda)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!double.IsFinite(lambda) || lambda < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(lambda), lambda, "The L2 coefficient must be a finite number of at least 0. Pass 0 to turn the penalty off.");
        }

        Tensor? sumOfSquares = null;
        foreach (var weight in weights)
        {
            using var squares = weight.square();
            var weightSum = squares.sum();
            if (sumOfSquares is null)
            {
                sumOfSquares = weightSum;
            }
            else
            {
                using var previous = sumOfSquares;
                using (weightSum)
                {
                    sumOfSquares = previous + weightSum;
                }
            }
        }

        if (sumOfSquares is null)
        {
            return zeros(Array.Empty<long>());
        }

        using (sumOfSquares)
        {
            return sumOfSquares.Times(lambda);
        }
    }

    private static void RequireSameShape(Tensor first, Tensor second, string firstName, string secondName)
    {
        ArgumentNullException.ThrowIfNull(first, firstName);
        ArgumentNullException.ThrowIfNull(second, secondName);
        if (!first.shape.SequenceEqual(second.shape))
        {
            throw new ArgumentException(
                $"{firstName} has shape [{string.Join(", ", first.shape)}] but {secondName} has shape " +
                $"[{string.Join(", ", second.shape)}]. Pass tensors of the same shape.",
                secondName);
        }
    }
}
