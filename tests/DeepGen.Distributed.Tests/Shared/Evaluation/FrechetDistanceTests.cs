using DeepGen.Distributed.Evaluation;
using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Tests.Evaluation;

public sealed class FrechetDistanceTests
{
    public FrechetDistanceTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Set_against_itself_is_zero()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(1);
        var features = torch.randn([2000, 16], generator: generator);

        var distance = FrechetDistance.Compute(features, features.clone());

        Assert.True(Math.Abs(distance) < 1e-6, $"d² of a set against itself is {distance}, expected |d²| < 1e-6.");
    }

    [Fact]
    public void One_dimensional_gaussians_match_closed_form()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(2);
        // A ~ N(1, 2²) and B ~ N(-0.5, 0.5²): d² = (1 - (-0.5))² + (2 - 0.5)² = 2.25 + 2.25 = 4.5.
        var featuresA = (torch.randn([100_000, 1], ScalarType.Float64, generator: generator) * 2.0) + 1.0;
        var featuresB = (torch.randn([100_000, 1], ScalarType.Float64, generator: generator) * 0.5) - 0.5;

        var distance = FrechetDistance.Compute(featuresA, featuresB);

        // Estimated from the sample sizes, sampling error moves d² by about 0.025 (one standard deviation).
        Assert.Equal(4.5, distance, tolerance: 0.15);
    }

    [Fact]
    public void Diagonal_statistics_match_closed_form()
    {
        using var scope = torch.NewDisposeScope();
        double[] meanAValues = [1.0, 2.0, 3.0];
        double[] meanBValues = [0.0, 2.0, 5.0];
        double[] varianceAValues = [4.0, 9.0, 1.0];
        double[] varianceBValues = [1.0, 4.0, 1.0];
        var meanA = torch.tensor(meanAValues);
        var meanB = torch.tensor(meanBValues);
        var covarianceA = torch.diag(torch.tensor(varianceAValues));
        var covarianceB = torch.diag(torch.tensor(varianceBValues));
        // Mean term: 1² + 0² + 2² = 5. Standard deviations [2, 3, 1] and [1, 2, 1]: 1² + 1² + 0² = 2. Total 7.
        const double expected = 7.0;

        var distance = FrechetDistance.FromStatistics(meanA, covarianceA, meanB, covarianceB);
        var repeated = FrechetDistance.FromStatistics(meanA, covarianceA, meanB, covarianceB);

        Assert.Equal(expected, distance, tolerance: 1e-9);
        // The statistics stay usable, so a reference set's statistics can be reused across evaluations.
        Assert.Equal(distance, repeated);
    }

    [Fact]
    public void Statistics_use_unbiased_covariance()
    {
        using var scope = torch.NewDisposeScope();
        // Columns x = [1, 2, 3] and y = [2, 4, 9] have means 2 and 5. Dividing by n - 1 = 2 gives
        // var x = (1 + 0 + 1) / 2 = 1, var y = (9 + 1 + 16) / 2 = 13 and cov = (3 + 0 + 4) / 2 = 3.5.
        var features = torch.tensor(new float[] { 1, 2, 2, 4, 3, 9 }, [3, 2]);

        double[] expectedMean = [2.0, 5.0];
        double[] expectedCovariance = [1.0, 3.5, 3.5, 13.0];

        var (mean, covariance) = FrechetDistance.Statistics(features);

        Assert.Equal(ScalarType.Float64, mean.dtype);
        Assert.Equal(ScalarType.Float64, covariance.dtype);
        Assert.Equal(expectedMean, mean.data<double>().ToArray());
        Assert.Equal(expectedCovariance, covariance.data<double>().ToArray());
        mean.Dispose();
        covariance.Dispose();
    }

    [Fact]
    public void Distance_grows_with_noise_scale()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(3);
        var features = torch.randn([2000, 16], generator: generator);
        var noise = torch.randn([2000, 16], generator: generator);
        double[] scales = [0.0, 0.1, 0.5, 1.0];

        var distances = scales.Select(scale => FrechetDistance.Compute(features, features + (noise * scale))).ToArray();

        for (var i = 1; i < scales.Length; i++)
        {
            Assert.True(
                distances[i] > distances[i - 1],
                $"d² at noise scale {scales[i]} is {distances[i]}, not above {distances[i - 1]} at scale {scales[i - 1]}.");
        }
    }

    [Fact]
    public void Distance_is_symmetric()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(4);
        var featuresA = torch.randn([500, 8], generator: generator);
        var mixing = torch.randn([8, 8], generator: generator);
        var featuresB = torch.randn([700, 8], generator: generator).matmul(mixing) + 0.3;

        var forward = FrechetDistance.Compute(featuresA, featuresB);
        var backward = FrechetDistance.Compute(featuresB, featuresA);

        Assert.True(forward > 1.0, $"d² is {forward}; the two sets were built to differ clearly.");
        Assert.Equal(forward, backward, tolerance: 1e-9 * forward);
    }

    [Fact]
    public void Mismatched_dimensions_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var featuresA = torch.zeros([10, 4]);
        var featuresB = torch.zeros([10, 5]);

        var error = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(featuresA, featuresB));

        Assert.Contains("[10, 4]", error.Message);
        Assert.Contains("[10, 5]", error.Message);
    }

    [Fact]
    public void Single_row_is_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var featuresA = torch.randn([1, 4]);
        var featuresB = torch.randn([10, 4]);

        var error = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(featuresA, featuresB));

        Assert.Contains("[1, 4]", error.Message);
        Assert.Contains("at least 2 rows", error.Message);
    }

    [Fact]
    public void Non_matrix_input_is_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var featuresA = torch.randn([10, 4, 2]);
        var featuresB = torch.randn([10, 4]);

        var error = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(featuresA, featuresB));

        Assert.Contains("[10, 4, 2]", error.Message);
        Assert.Contains("2-D", error.Message);
    }

    [Fact]
    public void NaN_features_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var featuresA = torch.randn([10, 4]);
        var featuresB = torch.randn([10, 4]);
        featuresB[3, 2] = torch.tensor(float.NaN);

        var error = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(featuresA, featuresB));

        Assert.Equal("featuresB", error.ParamName);
        Assert.Contains("NaN", error.Message);
    }

    [Fact]
    public void Mismatched_statistics_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var meanA = torch.zeros(3, ScalarType.Float64);
        var covarianceA = torch.eye(3, dtype: ScalarType.Float64);
        var meanB = torch.zeros(2, ScalarType.Float64);
        var covarianceB = torch.eye(2, dtype: ScalarType.Float64);

        var error = Assert.Throws<ArgumentException>(
            () => FrechetDistance.FromStatistics(meanA, covarianceA, meanB, covarianceB));

        Assert.Contains("meanB [2]", error.Message);
    }
}
