using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class AutoencoderLossTests
{
    private static readonly float[] BiasTestPixels = [0.2f, 0.9f];

    public AutoencoderLossTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Loss_matches_hand_computed_value()
    {
        using var scope = torch.NewDisposeScope();
        using var model = CreateTinyModel(encoderBias: 0, decoderBias: 0);
        var x = torch.tensor(new float[] { 1, 1, 0, 0 }, 2, 2);

        var (loss, squaredErrorSum) = AutoencoderLoss.Compute(model, x, weightDecay: 0.1, normalizer: 2, weightDecayShare: 0.5);

        // Both images give z = σ(1 − 1) = σ(0 − 0) = 0.5 and x̂ = σ([2·0.5, 0·0.5]) = [σ(1), 0.5] = [0.7310586, 0.5].
        // Image [1, 1]: (1 − 0.7310586)² + 0.5² = 0.0723295 + 0.25.
        // Image [0, 0]: 0.7310586² + 0.5² = 0.5344466 + 0.25.
        // Squared error sum: 1.1067761. Data term: 1.1067761 / (normalizer 2 · 2 pixels) = 0.2766940.
        // Penalty: share 0.5 · λ 0.1 · (1² + (−1)² + 2² + 0²) = 0.3. Loss: 0.5766940.
        Assert.Equal(1.1067761, squaredErrorSum.item<float>(), 5);
        Assert.Equal(0.5766940, loss.item<float>(), 5);
    }

    [Fact]
    public void Penalty_skips_biases()
    {
        const double WeightDecay = 0.1;
        const double Share = 0.5;
        using var scope = torch.NewDisposeScope();
        using var model = CreateTinyModel(encoderBias: 5, decoderBias: -7);
        var x = torch.tensor(BiasTestPixels, 1, 2);

        var (withoutDecay, _) = AutoencoderLoss.Compute(model, x, weightDecay: 0, normalizer: 1, weightDecayShare: Share);
        var (withDecay, _) = AutoencoderLoss.Compute(model, x, WeightDecay, normalizer: 1, weightDecayShare: Share);

        // Only the weight matrices count: share · λ · (1 + 1 + 4 + 0) = 0.3. The biases would add 0.05·(25 + 98).
        Assert.Equal(0.3, withDecay.item<float>() - withoutDecay.item<float>(), 5);
    }

    [Fact]
    public void Weight_matrices_are_encoder_and_decoder_weights()
    {
        using var model = new Autoencoder(new AutoencoderOptions(InputSize: 12, LatentSize: 4));

        var matrices = VaeLoss.WeightMatrices(model).ToList();

        Assert.Equal(2, matrices.Count);
        Assert.Equal(new long[] { 4, 12 }, matrices[0].shape);
        Assert.Equal(new long[] { 12, 4 }, matrices[1].shape);
    }

    [Fact]
    public void Batch_normalizer_gives_pixel_mse()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        using var model = new Autoencoder(new AutoencoderOptions());
        var x = torch.rand(8, 784);

        var (loss, _) = AutoencoderLoss.Compute(model, x, weightDecay: 0, normalizer: 8);
        var (reconstruction, _) = model.forward(x);
        var expected = Losses.MeanSquaredError(reconstruction, x);

        Assert.Equal(expected.item<float>(), loss.item<float>(), 6);
    }

    [Fact]
    public void Rank_shares_sum_to_global_loss()
    {
        const double WeightDecay = 0.01;
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(8);
        using var model = new Autoencoder(new AutoencoderOptions(InputSize: 20, LatentSize: 6));
        var x = torch.rand(6, 20);

        var (globalLoss, _) = AutoencoderLoss.Compute(model, x, WeightDecay, normalizer: 6);
        var (firstRank, _) = AutoencoderLoss.Compute(model, x.narrow(0, 0, 2), WeightDecay, normalizer: 6, weightDecayShare: 0.5);
        var (secondRank, _) = AutoencoderLoss.Compute(model, x.narrow(0, 2, 4), WeightDecay, normalizer: 6, weightDecayShare: 0.5);

        Assert.Equal(globalLoss.item<float>(), firstRank.item<float>() + secondRank.item<float>(), 5);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void Compute_rejects_invalid_normalizer(double normalizer)
    {
        using var scope = torch.NewDisposeScope();
        using var model = CreateTinyModel(encoderBias: 0, decoderBias: 0);
        var x = torch.rand(1, 2);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => AutoencoderLoss.Compute(model, x, 0, normalizer));

        Assert.Equal("normalizer", error.ParamName);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.PositiveInfinity)]
    public void Compute_rejects_invalid_weight_decay(double weightDecay)
    {
        using var scope = torch.NewDisposeScope();
        using var model = CreateTinyModel(encoderBias: 0, decoderBias: 0);
        var x = torch.rand(1, 2);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => AutoencoderLoss.Compute(model, x, weightDecay, normalizer: 1));

        Assert.Equal("weightDecay", error.ParamName);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    public void Compute_rejects_share_outside_unit_interval(double share)
    {
        using var scope = torch.NewDisposeScope();
        using var model = CreateTinyModel(encoderBias: 0, decoderBias: 0);
        var x = torch.rand(1, 2);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => AutoencoderLoss.Compute(model, x, 0.1, 1, share));

        Assert.Equal("weightDecayShare", error.ParamName);
    }

    /// <summary>Builds a 2-pixel, 1-unit autoencoder with W_e = [1, −1] and W_d = [2, 0]ᵀ.</summary>
    private static Autoencoder CreateTinyModel(float encoderBias, float decoderBias)
    {
        var model = new Autoencoder(new AutoencoderOptions(InputSize: 2, LatentSize: 1));
        var parameters = model.named_parameters().ToDictionary(parameter => parameter.name, parameter => parameter.parameter);
        using (torch.no_grad())
        {
            parameters["encoder.weight"].copy_(torch.tensor(new float[] { 1, -1 }, 1, 2));
            parameters["encoder.bias"].copy_(torch.tensor(new float[] { encoderBias }));
            parameters["decoder.weight"].copy_(torch.tensor(new float[] { 2, 0 }, 2, 1));
            parameters["decoder.bias"].copy_(torch.tensor(new float[] { decoderBias, decoderBias }));
        }

        return model;
    }
}
