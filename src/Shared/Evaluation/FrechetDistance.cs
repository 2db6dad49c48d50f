using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Evaluation;

/// <summary>
/// Fréchet distance between Gaussians fitted to two feature sets:
/// d² = ‖μ_A − μ_B‖² + Tr(Σ_A + Σ_B − 2 (Σ_A Σ_B)^{1/2}).
/// </summary>
/// <remarks>
/// With Inception-v3 pool features this is the FID. Here the caller chooses the feature extractor and must name the
/// metric after it, because values from another extractor are not comparable with published FID numbers.
/// Means and unbiased covariances (divided by n − 1) are computed in float64 whatever the input dtype.
/// The result is the squared distance, and rounding can make it a tiny negative number when the two sets match.
/// </remarks>
public static class FrechetDistance
{
    /// <summary>Fits a Gaussian to each feature set and computes the squared Fréchet distance between them.</summary>
    /// <param name="featuresA">Features of shape [n, d], any floating-point dtype, n ≥ 2.</param>
    /// <param name="featuresB">Features of shape [m, d], any floating-point dtype, m ≥ 2.</param>
    /// <returns>The squared distance d², in squared feature units.</returns>
    /// <exception cref="ArgumentException">
    /// An input is not 2-D, not floating point, has fewer than 2 rows or contains NaN or infinity, or d differs.
    /// </exception>
    public static double Compute(Tensor featuresA, Tensor featuresB)
    {
        ArgumentNullException.ThrowIfNull(featuresA);
        ArgumentNullException.ThrowIfNull(featuresB);
        ValidateFeatures(featuresA, nameof(featuresA));
        ValidateFeatures(featuresB, nameof(featuresB));
        if (featuresA.shape[1] != featuresB.shape[1])
        {
            throw new ArgumentException(
                $"featuresA has shape {FormatShape(featuresA)} and featuresB has shape {FormatShape(featuresB)}, " +
                "but both must have the same feature dimension d (the second size).",
                nameof(featuresB));
        }

        var (meanA, covarianceA) = Statistics(featuresA);
        var (meanB, covarianceB) = Statistics(featuresB);
        using (meanA)
        using (covarianceA)
        using (meanB)
        using (covarianceB)
        {
            return FromStatistics(meanA, covarianceA, meanB, covarianceB);
        }
    }

    /// <summary>
    /// Computes the mean and the unbiased covariance (divided by n − 1) of a feature set, so that the statistics of a
    /// fixed reference set can be computed once and passed to <see cref="FromStatistics"/> many times.
    /// </summary>
    /// <param name="features">Features of shape [n, d], any floating-point dtype, n ≥ 2.</param>
    /// <returns>A float64 mean of shape [d] and a float64 covariance of shape [d, d], both owned by the caller.</returns>
    /// <exception cref="ArgumentException">
    /// The input is not 2-D, not floating point, has fewer than 2 rows or contains NaN or infinity.
    /// </exception>
    public static (Tensor Mean, Tensor Covariance) Statistics(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        ValidateFeatures(features, nameof(features));

        using var scope = torch.NewDisposeScope();
        var rows = features.shape[0];
        var values = features.to_type(ScalarType.Float64);
        var mean = values.mean([0]);
        var centered = values - mean;
        var covariance = centered.t().matmul(centered).div(rows - 1);

        return (mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope());
    }

    /// <summary>Computes the squared Fréchet distance between two Gaussians given by their means and covariances.</summary>
    /// <param name="meanA">Mean of shape [d].</param>
    /// <param name="covarianceA">Symmetric positive semi-definite covariance of shape [d, d].</param>
    /// <param name="meanB">Mean of shape [d].</param>
    /// <param name="covarianceB">Symmetric positive semi-definite covariance of shape [d, d].</param>
    /// <returns>The squared distance d², computed in float64.</returns>
    /// <exception cref="ArgumentException">
    /// A shape does not match [d] and [d, d] with one common d, or a value is NaN or infinity.
    /// </exception>
    /// <remarks>
    /// Tr((Σ_A Σ_B)^{1/2}) equals Σ_i sqrt(λ_i), where λ_i are the eigenvalues of the symmetric matrix
    /// Σ_A^{1/2} Σ_B Σ_A^{1/2}, because that matrix is similar to Σ_A Σ_B. Working with the symmetric form lets a
    /// symmetric eigendecomposition (eigh) replace a general matrix square root, which can turn complex for a
    /// near-singular covariance. Eigenvalues that rounding pushes slightly below 0 are clamped to 0.
    /// </remarks>
    public static double FromStatistics(Tensor meanA, Tensor covarianceA, Tensor meanB, Tensor covarianceB)
    {
        ArgumentNullException.ThrowIfNull(meanA);
        ArgumentNullException.ThrowIfNull(covarianceA);
        ArgumentNullException.ThrowIfNull(meanB);
        ArgumentNullException.ThrowIfNull(covarianceB);
        ValidateStatistics(meanA, covarianceA, meanB, covarianceB);

        using var scope = torch.NewDisposeScope();
        var muA = meanA.to_type(ScalarType.Float64);
        var muB = meanB.to_type(ScalarType.Float64);
        var sigmaA = covarianceA.to_type(ScalarType.Float64);
        var sigmaB = covarianceB.to_type(ScalarType.Float64);

        var meanDifference = muA - muB;
        var meanTerm = meanDifference.dot(meanDifference).item<double>();

        var sqrtSigmaA = SymmetricSquareRoot(sigmaA);
        var product = sqrtSigmaA.matmul(sigmaB).matmul(sqrtSigmaA);
        // Rounding makes the product slightly asymmetric, and eigh reads only one triangle, so symmetrize first.
        var symmetricProduct = (product + product.t()) / 2;
        var productEigenvalues = torch.linalg.eigvalsh(symmetricProduct);
        var traceSqrtProduct = productEigenvalues.clamp_min(0).sqrt().sum().item<double>();

        var traceA = sigmaA.trace().item<double>();
        var traceB = sigmaB.trace().item<double>();
        return meanTerm + traceA + traceB - (2 * traceSqrtProduct);
    }

    /// <summary>Computes the PSD square root V diag(sqrt(max(λ, 0))) Vᵀ of a symmetric matrix.</summary>
    private static Tensor SymmetricSquareRoot(Tensor matrix)
    {
        var symmetric = (matrix + matrix.t()) / 2;
        var (eigenvalues, eigenvectors) = torch.linalg.eigh(symmetric);
        var roots = eigenvalues.clamp_min(0).sqrt();
        return (eigenvectors * roots.unsqueeze(0)).matmul(eigenvectors.t());
    }

    private static void ValidateFeatures(Tensor features, string parameterName)
    {
        if (features.dim() != 2)
        {
            throw new ArgumentException(
                $"{parameterName} has shape {FormatShape(features)}, but features must be 2-D with shape [rows, d].",
                parameterName);
        }

        if (!features.is_floating_point())
        {
            throw new ArgumentException(
                $"{parameterName} has dtype {features.dtype}, but features must be floating point.", parameterName);
        }

        if (features.shape[0] < 2)
        {
            throw new ArgumentException(
                $"{parameterName} has shape {FormatShape(features)}, but an unbiased covariance needs at least 2 rows.",
                parameterName);
        }

        RejectNonFinite(features, parameterName);
    }

    private static void ValidateStatistics(Tensor meanA, Tensor covarianceA, Tensor meanB, Tensor covarianceB)
    {
        if (meanA.dim() != 1)
        {
            throw new ArgumentException($"meanA has shape {FormatShape(meanA)}, but a mean must be 1-D with shape [d].", nameof(meanA));
        }

        var d = meanA.shape[0];
        string expected = $"[{d}] and [{d}, {d}]";
        if (!HasShape(covarianceA, d, d) || !HasShape(meanB, d) || !HasShape(covarianceB, d, d))
        {
            throw new ArgumentException(
                $"The statistics have shapes meanA {FormatShape(meanA)}, covarianceA {FormatShape(covarianceA)}, " +
                $"meanB {FormatShape(meanB)}, covarianceB {FormatShape(covarianceB)}, but the means and covariances " +
                $"must have shapes {expected} with the same d.");
        }

        RejectNonFinite(meanA, nameof(meanA));
        RejectNonFinite(covarianceA, nameof(covarianceA));
        RejectNonFinite(meanB, nameof(meanB));
        RejectNonFinite(covarianceB, nameof(covarianceB));
    }

    private static bool HasShape(Tensor tensor, params long[] shape) => tensor.shape.SequenceEqual(shape);

    private static void RejectNonFinite(Tensor tensor, string parameterName)
    {
        using var finite = tensor.isfinite();
        using var allFinite = finite.all();
        if (!allFinite.item<bool>())
        {
            throw new ArgumentException(
                $"{parameterName} contains NaN or infinity. Check the feature extractor's inputs and weights, " +
                "for example a diverged generator.",
                parameterName);
        }
    }

    private static string FormatShape(Tensor tensor) => $"[{string.Join(", ", tensor.shape)}]";
}
