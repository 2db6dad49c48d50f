using DeepGen.Distributed.Training;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>Weights of the terms in the VAE training loss.</summary>
/// <param name="Beta">β, the weight of the KL term. With β = 1 the loss is the negative evidence lower bound (ELBO).</param>
/// <param name="WeightDecay">λ, the coefficient of the L2 penalty on the weight matrices, where 0 turns it off.</param>
public sealed record VaeLossOptions(double Beta = 1.0, double WeightDecay = 0.0)
{
    /// <summary>Checks that β and λ are finite and at least 0.</summary>
    /// <exception cref="ArgumentException">β or λ is negative, NaN or infinite.</exception>
    public void Validate()
    {
        RequireNonNegative(Beta, nameof(Beta));
        RequireNonNegative(WeightDecay, nameof(WeightDecay));
    }

    private static void RequireNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentException(
                $"{name} is {value}, but it must be a finite number of at least 0. Set {name} to 0 or more.", name);
        }
    }
}

/// <summary>Terms of one VAE loss evaluation, all scalar tensors attached to the autograd graph.</summary>
/// <param name="Loss">The value to differentiate: (Reconstruction + β·Kl) / normalizer + share·λ Σ‖W‖².</param>
/// <param name="Reconstruction">−log p(x|z) summed over the batch and the pixels, in nats.</param>
/// <param name="Kl">KL(q(z|x) ‖ N(0, I)) summed over the batch, in nats.</param>
public sealed record VaeLossTerms(Tensor Loss, Tensor Reconstruction, Tensor Kl);

/// <summary>Training loss of a <see cref="Vae"/>: the negative ELBO with a β-weighted KL term and an optional
/// L2 penalty, scaled so that data-parallel ranks can sum it.</summary>
/// <remarks>
/// The ELBO is E_q(z|x)[log p(x|z)] − KL(q(z|x) ‖ p(z)), estimated with one sample of z per image. The negative
/// ELBO per image of a batch is (Reconstruction + Kl) / batch size.
/// </remarks>
public static class VaeLoss
{
    /// <summary>Runs the model on a batch and computes
    /// Loss = (Reconstruction + β·Kl) / <paramref name="normalizer"/> + <paramref name="weightDecayShare"/>·λ Σ_W ‖W‖²,
    /// where W runs over the weight matrices only (biases are not penalised).</summary>
    /// <remarks>
    /// For data-parallel training, pass the global batch size (the sum of all ranks' batch sizes) as
    /// <paramref name="normalizer"/>. Each rank's loss is then its share of the global batch mean, so summing
    /// the losses, or their gradients, across ranks gives the mean over the global batch. Pass 1 / world size as
    /// <paramref name="weightDecayShare"/> so that the penalty, which every rank adds, is counted once in that sum.
    /// On a single process, pass the batch size and 1.
    /// </remarks>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="x">Images, shape [B, InputSize], pixel values in [0, 1].</param>
    /// <param name="noise">Standard normal noise for the reparameterisation, shape [B, LatentSize].</param>
    /// <param name="options">β and λ.</param>
    /// <param name="normalizer">Divisor of the data terms, greater than 0: the global batch size.</param>
    /// <param name="weightDecayShare">Factor on the penalty, in [0, 1]: 1 / world size.</param>
    /// <returns>The loss and its two data terms as batch sums.</returns>
    /// <exception cref="ArgumentException">An option, the normalizer, the share or a tensor shape is invalid.</exception>
    public static VaeLossTerms Compute(
        Vae model, Tensor x, Tensor noise, VaeLossOptions options, double normalizer, double weightDecayShare = 1.0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
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

        var (logits, mean, logVariance) = model.forward(x, noise);
        Tensor reconstruction;
        Tensor kl;
        using (logits)
        using (mean)
        using (logVariance)
        {
            reconstruction = Losses.BernoulliReconstruction(logits, x);
            kl = Losses.GaussianKlToStandardNormal(mean, logVariance);
        }

        using var weightedKl = kl.Times(options.Beta);
        using var dataTerms = reconstruction + weightedKl;
        var loss = dataTerms.Over(normalizer);
        if (options.WeightDecay > 0)
        {
            using var penalty = Losses.L2Penalty(WeightMatrices(model), options.WeightDecay);
            using var sharedPenalty = penalty.Times(weightDecayShare);
            using var dataLoss = loss;
            loss = dataLoss + sharedPenalty;
        }

        return new VaeLossTerms(loss, reconstruction, kl);
    }

    /// <summary>Returns the parameters of <paramref name="module"/> with two or more dimensions: the weight
    /// matrices of its Linear layers, without the biases.</summary>
    /// <remarks>The tensors are the module's own parameters, so the caller must not dispose them.</remarks>
    public static IEnumerable<Tensor> WeightMatrices(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);

        return module.parameters().Where(parameter => parameter.dim() >= 2);
    }
}
