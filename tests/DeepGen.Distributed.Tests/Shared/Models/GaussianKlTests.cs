using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class GaussianKlTests
{
    public GaussianKlTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Gaussian_kl_matches_hand_computed_one_dimensional_value()
    {
        using var scope = torch.NewDisposeScope();
        var mean = torch.tensor(new double[] { 1 }, 1, 1);
        var logVariance = torch.tensor(new double[] { Math.Log(2) }, 1, 1);

        var divergence = Losses.GaussianKlToStandardNormal(mean, logVariance);

        // μ = 1, σ² = 2: −½ (1 + ln 2 − 1 − 2) = 1 − ½ ln 2.
        Assert.Empty(divergence.shape);
        Assert.Equal(0.6534264097200273, divergence.item<double>(), 12);
    }

    [Fact]
    public void Gaussian_kl_sums_over_batch()
    {
        using var scope = torch.NewDisposeScope();
        var mean = torch.tensor(new double[] { 1, 0 }, 2, 1);
        var logVariance = torch.tensor(new double[] { Math.Log(2), 0 }, 2, 1);

        var divergence = Losses.GaussianKlToStandardNormal(mean, logVariance);

        // The second row is N(0, 1) itself and adds 0.
        Assert.Equal(0.6534264097200273, divergence.item<double>(), 12);
    }

    [Fact]
    public void Gaussian_kl_matches_monte_carlo_estimate()
    {
        const int SampleCount = 200_000;
        using var scope = torch.NewDisposeScope();
        var meanValues = new double[] { 0.5, -1, 2 };
        var varianceValues = new double[] { 0.5, 2, 1 };
        var mean = torch.tensor(meanValues, 1, 3);
        var logVariance = torch.tensor(varianceValues.Select(variance => Math.Log(variance)).ToArray(), 1, 3);
        using var generator = new torch.Generator(20_240_601);

        var closedForm = Losses.GaussianKlToStandardNormal(mean, logVariance).item<double>();

        // Draw z ~ q = N(μ, diag σ²) and average log q(z) − log p(z). The 2π terms of the two log densities cancel:
        // log q(z) − log p(z) = Σ_d [−½ log σ²_d − (z_d − μ_d)² / (2σ²_d) + z_d² / 2].
        var noise = torch.randn(new long[] { SampleCount, 3 }, torch.float64, generator: generator);
        var standardDeviation = (0.5 * logVariance).exp();
        var z = mean + (standardDeviation * noise);
        var variance = logVariance.exp();
        var logQ = (-0.5 * logVariance) - ((z - mean).square() / (2 * variance));
        var logP = -0.5 * z.square();
        var logRatio = (logQ - logP).sum(1);
        var estimate = logRatio.mean().item<double>();
        var standardError = logRatio.std().item<double>() / Math.Sqrt(SampleCount);

        var expected = 0.0;
        for (var d = 0; d < 3; d++)
        {
            expected += 0.5 * (varianceValues[d] + (meanValues[d] * meanValues[d]) - 1 - Math.Log(varianceValues[d]));
        }

        Assert.Equal(expected, closedForm, 10);
        Assert.True(
            Math.Abs(estimate - closedForm) < 4 * standardError,
            $"Monte Carlo estimate {estimate} is more than 4 standard errors ({standardError}) from the closed form {closedForm}");
    }

    [Fact]
    public void Gaussian_kl_of_standard_normal_is_zero()
    {
        using var scope = torch.NewDisposeScope();
        var mean = torch.zeros(4, 3);
        var logVariance = torch.zeros(4, 3);

        var divergence = Losses.GaussianKlToStandardNormal(mean, logVariance);

        Assert.Equal(0, divergence.item<float>());
    }
}
