using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// Standard GAN cost functions computed from discriminator logits ℓ, where D = sigmoid(ℓ) is the probability that
/// an image is real.
/// </summary>
/// <remarks>Every method uses binary_cross_entropy_with_logits, which evaluates −log sigmoid(ℓ) and
/// −log(1 − sigmoid(ℓ)) from ℓ without forming sigmoid(ℓ), so large |ℓ| gives finite values and gradients. Every
/// method returns a new scalar tensor that stays attached to the autograd graph of its inputs.</remarks>
public static class GanLosses
{
    /// <summary>Computes the discriminator cost J_D = −(1/m) Σ_i log D(x_i) − (1/n) Σ_j log(1 − D(G(z_j))), each
    /// term averaged over its own batch, which equals BCE(real logits, 1) + BCE(fake logits, 0).</summary>
    /// <param name="realLogits">Logits for the m real images x_i, any shape, usually [m, 1].</param>
    /// <param name="fakeLogits">Logits for the n generated images G(z_j), any shape, usually [n, 1].</param>
    /// <returns>A scalar tensor, in nats. It is 2 ln 2 when every logit is 0.</returns>
    /// <exception cref="ArgumentException">A logits tensor is empty.</exception>
    public static Tensor DiscriminatorLoss(Tensor realLogits, Tensor fakeLogits) =>
        DiscriminatorLoss(realLogits, fakeLogits, nn.Reduction.Mean);

    /// <summary>Computes the non-saturating generator cost J_G = −(1/n) Σ_j log D(G(z_j)), which equals
    /// BCE(fake logits, 1).</summary>
    /// <remarks>Minimising −log D(G(z)) in place of log(1 − D(G(z))) keeps the gradient large while the
    /// discriminator still rejects the generated images.</remarks>
    /// <param name="fakeLogits">Logits for the n generated images G(z_j), any shape, usually [n, 1].</param>
    /// <returns>A scalar tensor, in nats.</returns>
    /// <exception cref="ArgumentException"><paramref name="fakeLogits"/> is empty.</exception>
    public static Tensor GeneratorLoss(Tensor fakeLogits) => GeneratorLoss(fakeLogits, nn.Reduction.Mean);

    /// <summary>Computes the summed discriminator cost −Σ_i log D(x_i) − Σ_j log(1 − D(G(z_j))).</summary>
    /// <remarks>In data-parallel training, each rank divides this sum by the global batch size (the number of
    /// images per term summed over all ranks), so that summing the results or their gradients across ranks gives
    /// the global-batch <see cref="DiscriminatorLoss(Tensor, Tensor)"/>.</remarks>
    /// <param name="realLogits">Logits for the real images x_i on this rank, any shape.</param>
    /// <param name="fakeLogits">Logits for the generated images G(z_j) on this rank, any shape.</param>
    /// <returns>A scalar tensor, in nats.</returns>
    /// <exception cref="ArgumentException">A logits tensor is empty.</exception>
    public static Tensor DiscriminatorLossSum(Tensor realLogits, Tensor fakeLogits) =>
        DiscriminatorLoss(realLogits, fakeLogits, nn.Reduction.Sum);

    /// <summary>Computes the summed non-saturating generator cost −Σ_j log D(G(z_j)).</summary>
    /// <remarks>In data-parallel training, each rank divides this sum by the global batch size, so that summing
    /// the results or their gradients across ranks gives the global-batch <see cref="GeneratorLoss(Tensor)"/>.</remarks>
    /// <param name="fakeLogits">Logits for the generated images G(z_j) on this rank, any shape.</param>
    /// <returns>A scalar tensor, in nats.</returns>
    /// <exception cref="ArgumentException"><paramref name="fakeLogits"/> is empty.</exception>
    public static Tensor GeneratorLossSum(Tensor fakeLogits) => GeneratorLoss(fakeLogits, nn.Reduction.Sum);

    private static Tensor DiscriminatorLoss(Tensor realLogits, Tensor fakeLogits, nn.Reduction reduction)
    {
        RequireNonEmpty(realLogits, nameof(realLogits));
        RequireNonEmpty(fakeLogits, nameof(fakeLogits));

        using var realTargets = ones_like(realLogits);
        using var fakeTargets = zeros_like(fakeLogits);
        using var realTerm = nn.functional.binary_cross_entropy_with_logits(realLogits, realTargets, reduction: reduction);
        using var fakeTerm = nn.functional.binary_cross_entropy_with_logits(fakeLogits, fakeTargets, reduction: reduction);
        return realTerm + fakeTerm;
    }

    private static Tensor GeneratorLoss(Tensor fakeLogits, nn.Reduction reduction)
    {
        RequireNonEmpty(fakeLogits, nameof(fakeLogits));

        using var targets = ones_like(fakeLogits);
        return nn.functional.binary_cross_entropy_with_logits(fakeLogits, targets, reduction: reduction);
    }

    private static void RequireNonEmpty(Tensor logits, string name)
    {
        ArgumentNullException.ThrowIfNull(logits, name);
        if (logits.numel() == 0)
        {
            throw new ArgumentException(
                $"{name} has shape [{string.Join(", ", logits.shape)}] with no elements, so the batch mean is undefined. " +
                "Pass at least one logit.",
                name);
        }
    }
}
