using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

// CA1861: each literal array is a test input used once, and keeping it next to the hand computation that
// checks it reads better than a static field.
#pragma warning disable CA1861

namespace DeepGen.Distributed.Tests.Models;

public sealed class LossesTests
{
    private const int Precision = 5;

    public LossesTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Mean_squared_error_matches_hand_computed_value()
    {
        using var scope = torch.NewDisposeScope();
        var prediction = torch.tensor(new float[] { 1, 2, 3, 4 });
        var target = torch.tensor(new float[] { 1.5f, 2, 2, 6 });

        var loss = Losses.MeanSquaredError(prediction, target);

        // Errors 0.5, 0, -1, 2 square to 0.25, 0, 1, 4, and their mean is 5.25 / 4.
        Assert.Empty(loss.shape);
        Assert.Equal(1.3125, loss.item<float>(), Precision);
    }

    [Fact]
    public void Mean_squared_error_rejects_mismatched_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var prediction = torch.zeros(2, 3);
        var target = torch.zeros(3, 2);

        var error = Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError(prediction, target));

        Assert.Contains("[2, 3]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 2]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cross_entropy_matches_hand_computed_value()
    {
        using var scope = torch.NewDisposeScope();
        var probabilities = torch.tensor(new float[] { 0.7f, 0.2f, 0.1f, 0.1f, 0.6f, 0.3f }, 2, 3);
        var oneHot = torch.tensor(new float[] { 1, 0, 0, 0, 0, 1 }, 2, 3);

        var loss = Losses.CrossEntropy(probabilities, oneHot);

        // −(ln 0.7 + ln 0.3) / 2 rows.
        Assert.Equal(0.7803239, loss.item<float>(), Precision);
    }

    [Fact]
    public void Cross_entropy_ignores_zero_non_target_probability()
    {
        using var scope = torch.NewDisposeScope();
        var probabilities = torch.tensor(new float[] { 0.5f, 0.5f, 0 }, 1, 3, requires_grad: true);
        var oneHot = torch.tensor(new float[] { 1, 0, 0 }, 1, 3);

        var loss = Losses.CrossEntropy(probabilities, oneHot);
        loss.backward();
        var gradient = probabilities.grad!.data<float>().ToArray();

        // 0 · log 0 counts as 0, so only −ln 0.5 remains.
        Assert.Equal(Math.Log(2), loss.item<float>(), Precision);
        Assert.All(gradient, value => Assert.True(float.IsFinite(value), $"gradient entry {value} is not finite"));
        Assert.Equal(-2, gradient[0], Precision);
        Assert.Equal(0, gradient[2], Precision);
    }

    [Fact]
    public void Cross_entropy_caps_zero_target_probability()
    {
        using var scope = torch.NewDisposeScope();
        var probabilities = torch.tensor(new float[] { 0, 1 }, 1, 2);
        var oneHot = torch.tensor(new float[] { 1, 0 }, 1, 2);

        var loss = Losses.CrossEntropy(probabilities, oneHot).item<float>();

        Assert.True(float.IsFinite(loss), $"loss {loss} is not finite");
        Assert.Equal(-Math.Log(Losses.ProbabilityFloor), loss, 3);
    }

    [Fact]
    public void Cross_entropy_rejects_one_dimensional_input()
    {
        using var scope = torch.NewDisposeScope();
        var probabilities = torch.tensor(new float[] { 0.5f, 0.5f });
        var oneHot = torch.tensor(new float[] { 1, 0 });

        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(probabilities, oneHot));
    }

    [Fact]
    public void Kl_divergence_matches_hand_computed_value()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.tensor(new double[] { 0.5, 0.5 });
        var q = torch.tensor(new double[] { 0.9, 0.1 });

        var divergence = Losses.KlDivergence(p, q);

        // 0.5 ln(0.5 / 0.9) + 0.5 ln(0.5 / 0.1).
        Assert.Empty(divergence.shape);
        Assert.Equal(0.5108256237659907, divergence.item<double>(), 12);
    }

    [Fact]
    public void Kl_divergence_of_distribution_with_itself_is_zero()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.tensor(new double[] { 0.2, 0.3, 0.5, 0 });

        var divergence = Losses.KlDivergence(p, p);

        Assert.Equal(0, divergence.item<double>(), 12);
    }

    [Fact]
    public void Kl_divergence_is_asymmetric()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.tensor(new double[] { 0.5, 0.5 });
        var q = torch.tensor(new double[] { 0.9, 0.1 });

        var forward = Losses.KlDivergence(p, q).item<double>();
        var reverse = Losses.KlDivergence(q, p).item<double>();

        // 0.9 ln(0.9 / 0.5) + 0.1 ln(0.1 / 0.5).
        Assert.Equal(0.3680642071684971, reverse, 12);
        Assert.NotEqual(forward, reverse, 3);
    }

    [Fact]
    public void Kl_divergence_counts_zero_probability_terms_as_zero()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.tensor(new double[] { 1, 0 });
        var q = torch.tensor(new double[] { 0.5, 0.5 });
        var pointMass = torch.tensor(new double[] { 1, 0 });

        var divergence = Losses.KlDivergence(p, q).item<double>();
        var againstZero = Losses.KlDivergence(p, pointMass).item<double>();

        Assert.Equal(Math.Log(2), divergence, 12);
        Assert.Equal(0, againstZero, 12);
    }

    [Fact]
    public void Kl_divergence_is_infinite_where_q_is_zero()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.tensor(new double[] { 0.5, 0.5 });
        var q = torch.tensor(new double[] { 1, 0 });

        var divergence = Losses.KlDivergence(p, q).item<double>();

        Assert.True(double.IsPositiveInfinity(divergence), $"divergence is {divergence}, expected +∞");
    }

    [Fact]
    public void Kl_divergence_reduces_over_last_dimension()
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.tensor(new double[] { 0.5, 0.5, 1, 0 }, 2, 2);
        var q = torch.tensor(new double[] { 0.9, 0.1, 0.5, 0.5 }, 2, 2);

        var divergence = Losses.KlDivergence(p, q);
        var values = divergence.data<double>().ToArray();

        Assert.Equal(new long[] { 2 }, divergence.shape);
        Assert.Equal(0.5108256237659907, values[0], 12);
        Assert.Equal(Math.Log(2), values[1], 12);
    }

    [Fact]
    public void Bernoulli_reconstruction_matches_hand_computed_cross_entropy()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 0, (float)Math.Log(3), -(float)Math.Log(3), 2 }, 2, 2);
        var target = torch.tensor(new float[] { 1, 0.5f, 0, 1 }, 2, 2);

        var loss = Losses.BernoulliReconstruction(logits, target);

        // sigmoid gives 0.5, 0.75, 0.25 and sigmoid(2). The summed cross-entropy is
        // −ln 0.5 − (0.5 ln 0.75 + 0.5 ln 0.25) − ln 0.75 − ln sigmoid(2).
        var expected = -Math.Log(0.5) - ((0.5 * Math.Log(0.75)) + (0.5 * Math.Log(0.25))) - Math.Log(0.75)
            + Math.Log(1 + Math.Exp(-2));
        Assert.Empty(loss.shape);
        Assert.Equal(1.9447454808405347, expected, 12);
        Assert.Equal(expected, loss.item<float>(), Precision);
    }

    [Fact]
    public void Bernoulli_reconstruction_stays_finite_for_saturated_logits()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 200, -200 }, 1, 2);
        var target = torch.tensor(new float[] { 0, 1 }, 1, 2);

        var loss = Losses.BernoulliReconstruction(logits, target).item<float>();

        // −log(1 − sigmoid(200)) ≈ 200 and −log sigmoid(−200) ≈ 200.
        Assert.Equal(400, loss, 2);
    }

    [Fact]
    public void L2_penalty_matches_hand_computed_value()
    {
        using var scope = torch.NewDisposeScope();
        var matrix = torch.tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        var vector = torch.tensor(new float[] { 0.5f, -0.5f });

        var penalty = Losses.L2Penalty(new[] { matrix, vector }, 0.1);

        // 0.1 · ((1 + 4 + 9 + 16) + (0.25 + 0.25)).
        Assert.Empty(penalty.shape);
        Assert.Equal(3.05, penalty.item<float>(), Precision);
    }

    [Fact]
    public void L2_penalty_of_no_weights_is_zero()
    {
        using var scope = torch.NewDisposeScope();

        var penalty = Losses.L2Penalty(Array.Empty<torch.Tensor>(), 0.1);

        Assert.Empty(penalty.shape);
        Assert.Equal(0, penalty.item<float>());
    }

    [Fact]
    public void L2_penalty_rejects_negative_lambda()
    {
        using var scope = torch.NewDisposeScope();
        var matrix = torch.ones(2, 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => Losses.L2Penalty(new[] { matrix }, -0.1));
    }
}
