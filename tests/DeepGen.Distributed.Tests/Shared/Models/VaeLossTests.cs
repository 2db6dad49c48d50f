using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class VaeLossTests
{
    private const int BatchSize = 6;
    private static readonly VaeOptions SmallOptions = new(InputSize: 12, HiddenSize: 8, LatentSize: 4);

    public VaeLossTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Beta_scales_only_kl_term()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var (x, noise) = CreateBatch();

        var plain = VaeLoss.Compute(model, x, noise, new VaeLossOptions(Beta: 1), normalizer: BatchSize);
        var weighted = VaeLoss.Compute(model, x, noise, new VaeLossOptions(Beta: 3), normalizer: BatchSize);

        var kl = plain.Kl.item<float>();
        Assert.Equal(plain.Reconstruction.item<float>(), weighted.Reconstruction.item<float>());
        Assert.Equal(kl, weighted.Kl.item<float>());
        Assert.Equal(2 * kl / BatchSize, weighted.Loss.item<float>() - plain.Loss.item<float>(), tolerance: 1e-5 * (1 + Math.Abs(2 * kl / BatchSize)));
    }

    [Fact]
    public void Loss_equals_normalized_terms_plus_shared_penalty()
    {
        const double Beta = 0.5;
        const double WeightDecay = 0.01;
        const double Normalizer = 24;
        const double Share = 0.25;
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var (x, noise) = CreateBatch();

        var terms = VaeLoss.Compute(model, x, noise, new VaeLossOptions(Beta, WeightDecay), Normalizer, Share);

        var sumOfSquares = model.named_parameters()
            .Where(parameter => parameter.name.EndsWith(".weight", StringComparison.Ordinal))
            .Sum(parameter => (double)parameter.parameter.square().sum().item<float>());
        var expected = ((terms.Reconstruction.item<float>() + (Beta * terms.Kl.item<float>())) / Normalizer)
            + (Share * WeightDecay * sumOfSquares);
        var actual = terms.Loss.item<float>();
        Assert.True(
            Math.Abs(expected - actual) <= 1e-6 * Math.Abs(expected),
            $"loss {actual} differs from (recon + β·kl) / normalizer + share·λ·Σ‖W‖² = {expected}");
    }

    [Fact]
    public void Terms_are_batch_sums_of_per_image_terms()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var (x, noise) = CreateBatch();

        var batch = VaeLoss.Compute(model, x, noise, new VaeLossOptions(), normalizer: BatchSize);
        var reconstructionSum = 0.0;
        var klSum = 0.0;
        for (var row = 0; row < BatchSize; row++)
        {
            var single = VaeLoss.Compute(model, x.narrow(0, row, 1), noise.narrow(0, row, 1), new VaeLossOptions(), normalizer: 1);
            reconstructionSum += single.Reconstruction.item<float>();
            klSum += single.Kl.item<float>();
        }

        Assert.Equal(reconstructionSum, batch.Reconstruction.item<float>(), tolerance: 1e-5 * Math.Abs(reconstructionSum));
        Assert.Equal(klSum, batch.Kl.item<float>(), tolerance: 1e-5 * (1 + Math.Abs(klSum)));
    }

    [Fact]
    public void Weight_matrices_are_the_linear_weights_only()
    {
        using var model = new Vae(SmallOptions);

        var matrices = VaeLoss.WeightMatrices(model).ToList();
        var weightCount = matrices.Sum(matrix => matrix.numel());

        // encoder 8×12, two heads 4×8, decoder 8×4 and 12×8.
        Assert.Equal(5, matrices.Count);
        Assert.All(matrices, matrix => Assert.Equal(2, matrix.dim()));
        Assert.Equal((8 * 12) + (2 * 4 * 8) + (8 * 4) + (12 * 8), weightCount);
    }

    [Fact]
    public void Weight_decay_changes_only_weight_gradients()
    {
        const double WeightDecay = 0.1;
        const double Share = 0.5;
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var (x, noise) = CreateBatch();

        var withoutDecay = GradientsAfterBackward(model, x, noise, new VaeLossOptions(WeightDecay: 0), Share);
        var withDecay = GradientsAfterBackward(model, x, noise, new VaeLossOptions(WeightDecay: WeightDecay), Share);

        foreach (var (name, parameter) in model.named_parameters())
        {
            var gradientChange = withDecay[name] - withoutDecay[name];
            if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                Assert.True(gradientChange.abs().max().item<float>() == 0, $"bias {name} gradient changed under weight decay");
            }
            else
            {
                // d/dW of share·λ‖W‖² is 2·share·λ·W.
                var expectedChange = parameter.detach() * (2 * Share * WeightDecay);
                Assert.True(gradientChange.allclose(expectedChange, rtol: 1e-4, atol: 1e-6), $"weight {name} gradient change is not 2·share·λ·W");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void Compute_rejects_invalid_normalizer(double normalizer)
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var (x, noise) = CreateBatch();

        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => VaeLoss.Compute(model, x, noise, new VaeLossOptions(), normalizer));

        Assert.Equal("normalizer", error.ParamName);
    }

    [Fact]
    public void Compute_rejects_share_above_one()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var (x, noise) = CreateBatch();

        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => VaeLoss.Compute(model, x, noise, new VaeLossOptions(), BatchSize, weightDecayShare: 2));

        Assert.Equal("weightDecayShare", error.ParamName);
    }

    [Theory]
    [InlineData(-0.1, 0, "Beta")]
    [InlineData(1, -0.1, "WeightDecay")]
    [InlineData(double.PositiveInfinity, 0, "Beta")]
    public void Options_reject_negative_or_infinite_values(double beta, double weightDecay, string badName)
    {
        var options = new VaeLossOptions(beta, weightDecay);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(badName, error.ParamName);
    }

    private static (torch.Tensor X, torch.Tensor Noise) CreateBatch()
    {
        using var generator = new torch.Generator(7);
        var x = torch.rand(new long[] { BatchSize, 12 }, generator: generator);
        var noise = torch.randn(new long[] { BatchSize, 4 }, generator: generator);
        return (x, noise);
    }

    private static Dictionary<string, torch.Tensor> GradientsAfterBackward(
        Vae model, torch.Tensor x, torch.Tensor noise, VaeLossOptions options, double share)
    {
        model.zero_grad();
        var terms = VaeLoss.Compute(model, x, noise, options, BatchSize, share);
        terms.Loss.backward();
        return model.named_parameters().ToDictionary(parameter => parameter.name, parameter => parameter.parameter.grad!.clone());
    }
}
