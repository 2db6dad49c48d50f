using DeepGen.Distributed.Training;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>Training loss of an <see cref="Autoencoder"/>: the per-pixel mean squared reconstruction error plus an
/// optional L2 penalty on the weight matrices, scaled so that data-parallel ranks can sum it.</summary>
public static class AutoencoderLoss
{
    /// <summary>Runs the model on a batch and computes
    /// Loss = SquaredErrorSum / (<paramref name="normalizer"/> · InputSize) + <paramref name="weightDecayShare"/>·λ Σ_W ‖W‖²,
    /// where SquaredErrorSum = Σ_i Σ_p (x_ip − x̂_ip)² runs over the images i of the batch and their pixels p, and
    /// W runs over the weight matrices only (biases are not penalised).</summary>
    /// <remarks>
    /// For data-parallel training, pass the global batch size (the sum of all ranks' batch sizes) as
    /// <paramref name="normalizer"/>. Summing the losses, or their gradients, across ranks then gives the
    /// MSE (1/n) Σ (x − x̂)² over all n = global batch size · InputSize pixels, which equals the per-image MSE averaged
    /// over the images of the global batch. Pass 1 / world size as <paramref name="weightDecayShare"/> so that the
    /// penalty, which every rank adds, is counted once in that sum. On a single process, pass the batch size and 1.
    /// </remarks>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="x">Images, shape [B, InputSize], pixel values in [0, 1].</param>
    /// <param name="weightDecay">λ, finite and at least 0, where 0 turns the penalty off.</param>
    /// <param name="normalizer">Number of images the squared errors are averaged over, greater than 0: the global batch size.</param>
    /// <param name="weightDecayShare">Factor on the penalty, in [0, 1]: 1 / world size.</param>
    /// <returns>The loss, and the squared error summed over the batch and the pixels. Both are scalar tensors
    /// attached to the autograd graph.</returns>
    /// <exception cref="ArgumentException">λ, the normalizer, the share or the shape of <paramref name="x"/> is invalid.</exception>
    public static (Tensor Loss, Tensor SquaredErrorSum) Compute(
        Autoencoder model, Tensor x, double weightDecay, double normalizer, double weightDecayShare = 1.0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        if (!double.IsFinite(weightDecay) || weightDecay < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(weightDecay), weightDecay, "The weight decay must be a finite number of at least 0. Pass 0 to turn it off.");
        }

        if (!double.IsFinite(normalizer) || normalizer <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(normalizer), normalizer, "The normalizer must be a finite number greater than 0. Pass the global batch size.");
        }

        if (!double.IsFinite(weightDecayShare) || weightDecayShare < 0 || weightDecayShare > 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(weightDecayShare), weightDecayShare, "The weight decay share must be in [0, 1]. Pass 1 / world size.");
        }

        var (reconstruction, code) = model.forward(x);
        Tensor squaredErrorSum;
        using (reconstruction)
        using (code)
        {
            using var error = x - reconstruction;
            using var squaredError = error.square();
            squaredErrorSum = squaredError.sum();
        }

        var loss = squaredErrorSum.Over((double)normalizer * model.Options.InputSize);
        if (weightDecay > 0)
        {
            using var penalty = Losses.L2Penalty(VaeLoss.WeightMatrices(model), weightDecay);
            using var sharedPenalty = penalty.Times(weightDecayShare);
            using var dataLoss = loss;
            loss = dataLoss + sharedPenalty;
        }

        return (loss, squaredErrorSum);
    }
}
