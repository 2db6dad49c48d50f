using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

// CA1861: each literal array is a test input used once, and keeping it next to the hand computation that
// checks it reads better than a static field.
#pragma warning disable CA1861

namespace DeepGen.Distributed.Tests.Models;

public sealed class GanLossesTests
{
    private const int Precision = 5;

    public GanLossesTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Zero_logits_give_two_ln_two()
    {
        using var scope = torch.NewDisposeScope();
        var realLogits = torch.zeros(4, 1);
        var fakeLogits = torch.zeros(4, 1);

        var discriminatorLoss = GanLosses.DiscriminatorLoss(realLogits, fakeLogits);
        var generatorLoss = GanLosses.GeneratorLoss(fakeLogits);

        // Logit 0 gives D = 0.5, so J_D = −ln 0.5 − ln(1 − 0.5) = 2 ln 2 and J_G = −ln 0.5 = ln 2.
        Assert.Empty(discriminatorLoss.shape);
        Assert.Empty(generatorLoss.shape);
        Assert.Equal(2 * Math.Log(2), discriminatorLoss.item<float>(), Precision);
        Assert.Equal(Math.Log(2), generatorLoss.item<float>(), Precision);
    }

    [Fact]
    public void Losses_match_hand_computed_values()
    {
        using var scope = torch.NewDisposeScope();
        var realLogits = torch.tensor(new float[] { 2 }, 1, 1);
        var fakeLogits = torch.tensor(new float[] { -1 }, 1, 1);

        var discriminatorLoss = GanLosses.DiscriminatorLoss(realLogits, fakeLogits).item<float>();
        var generatorLoss = GanLosses.GeneratorLoss(fakeLogits).item<float>();

        // −ln sigmoid(ℓ) = ln(1 + e^−ℓ) and −ln(1 − sigmoid(ℓ)) = ln(1 + e^ℓ).
        // J_D = ln(1 + e^−2) + ln(1 + e^−1) = ln 1.1353353 + ln 1.3678794 = 0.1269280 + 0.3132617 = 0.4401897.
        // J_G = ln(1 + e^1) = ln 3.7182818 = 1.3132617.
        Assert.Equal(0.4401897, discriminatorLoss, Precision);
        Assert.Equal(1.3132617, generatorLoss, Precision);
    }

    [Fact]
    public void Discriminator_loss_averages_each_batch_separately()
    {
        using var scope = torch.NewDisposeScope();
        var realLogits = torch.tensor(new float[] { 2, -1 }, 2, 1);
        var fakeLogits = torch.tensor(new float[] { -1 }, 1, 1);

        var loss = GanLosses.DiscriminatorLoss(realLogits, fakeLogits).item<float>();

        // Real mean: (ln(1 + e^−2) + ln(1 + e^1)) / 2 = (0.1269280 + 1.3132617) / 2 = 0.7200948.
        // Fake mean: ln(1 + e^−1) = 0.3132617. Sum: 1.0333565.
        Assert.Equal(1.0333565, loss, Precision);
    }

    [Fact]
    public void Discriminator_loss_equals_sum_of_binary_cross_entropies()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator(3);
        var realLogits = torch.randn(new long[] { 6, 1 }, generator: generator);
        var fakeLogits = torch.randn(new long[] { 6, 1 }, generator: generator);

        var loss = GanLosses.DiscriminatorLoss(realLogits, fakeLogits).item<float>();
        var realTerm = torch.nn.functional.binary_cross_entropy_with_logits(realLogits, torch.ones_like(realLogits)).item<float>();
        var fakeTerm = torch.nn.functional.binary_cross_entropy_with_logits(fakeLogits, torch.zeros_like(fakeLogits)).item<float>();

        Assert.Equal(realTerm + fakeTerm, loss, Precision);
    }

    [Fact]
    public void Sum_variants_equal_mean_times_batch()
    {
        const int BatchSize = 5;
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator(4);
        var realLogits = torch.randn(new long[] { BatchSize, 1 }, generator: generator) * 3;
        var fakeLogits = torch.randn(new long[] { BatchSize, 1 }, generator: generator) * 3;

        var discriminatorMean = GanLosses.DiscriminatorLoss(realLogits, fakeLogits).item<float>();
        var discriminatorSum = GanLosses.DiscriminatorLossSum(realLogits, fakeLogits).item<float>();
        var generatorMean = GanLosses.GeneratorLoss(fakeLogits).item<float>();
        var generatorSum = GanLosses.GeneratorLossSum(fakeLogits).item<float>();

        Assert.Equal(discriminatorMean * BatchSize, discriminatorSum, 4);
        Assert.Equal(generatorMean * BatchSize, generatorSum, 4);
    }

    [Fact]
    public void Sum_variant_matches_hand_computed_value()
    {
        using var scope = torch.NewDisposeScope();
        var realLogits = torch.tensor(new float[] { 2, 0 }, 2, 1);
        var fakeLogits = torch.tensor(new float[] { -1, 0 }, 2, 1);

        var discriminatorSum = GanLosses.DiscriminatorLossSum(realLogits, fakeLogits).item<float>();
        var generatorSum = GanLosses.GeneratorLossSum(fakeLogits).item<float>();

        // J_D sum: ln(1 + e^−2) + ln 2 + ln(1 + e^−1) + ln 2 = 0.1269280 + 0.3132617 + 1.3862944 = 1.8264841.
        // J_G sum: ln(1 + e^1) + ln 2 = 1.3132617 + 0.6931472 = 2.0064089.
        Assert.Equal(1.8264841, discriminatorSum, Precision);
        Assert.Equal(2.0064089, generatorSum, Precision);
    }

    [Fact]
    public void Large_logits_give_finite_losses_and_gradients()
    {
        using var scope = torch.NewDisposeScope();
        var realLogits = torch.tensor(new float[] { 100, -100 }, 2, 1, requires_grad: true);
        var fakeLogits = torch.tensor(new float[] { -100, 100 }, 2, 1, requires_grad: true);

        var discriminatorLoss = GanLosses.DiscriminatorLoss(realLogits, fakeLogits);
        var generatorLoss = GanLosses.GeneratorLoss(fakeLogits);
        discriminatorLoss.backward();
        var realGradient = realLogits.grad!.data<float>().ToArray();

        // Confident and right costs about e^−100 ≈ 0, and confident and wrong costs about 100 per term:
        // J_D ≈ (0 + 100) / 2 + (0 + 100) / 2 = 100 and J_G ≈ (100 + 0) / 2 = 50.
        Assert.Equal(100, discriminatorLoss.item<float>(), 3);
        Assert.Equal(50, generatorLoss.item<float>(), 3);
        Assert.All(realGradient, value => Assert.True(float.IsFinite(value), $"gradient entry {value} is not finite"));

        // d/dℓ ln(1 + e^−ℓ) = sigmoid(ℓ) − 1, divided by the batch of 2: about 0 at ℓ = 100 and −0.5 at ℓ = −100.
        Assert.Equal(0, realGradient[0], Precision);
        Assert.Equal(-0.5, realGradient[1], Precision);
    }

    [Fact]
    public void Losses_reject_empty_logits()
    {
        using var scope = torch.NewDisposeScope();
        var empty = torch.zeros(0, 1);
        var fakeLogits = torch.zeros(2, 1);

        var discriminatorError = Assert.Throws<ArgumentException>(() => GanLosses.DiscriminatorLoss(empty, fakeLogits));
        var generatorError = Assert.Throws<ArgumentException>(() => GanLosses.GeneratorLossSum(empty));

        Assert.Equal("realLogits", discriminatorError.ParamName);
        Assert.Equal("fakeLogits", generatorError.ParamName);
    }
}
