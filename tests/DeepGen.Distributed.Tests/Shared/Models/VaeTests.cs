using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class VaeTests
{
    private static readonly VaeOptions SmallOptions = new(InputSize: 12, HiddenSize: 8, LatentSize: 4);

    public VaeTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Forward_returns_expected_shapes()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var x = torch.rand(3, 12);
        var noise = torch.randn(3, 4);

        var (logits, mean, logVariance) = model.forward(x, noise);

        Assert.Equal(new long[] { 3, 12 }, logits.shape);
        Assert.Equal(new long[] { 3, 4 }, mean.shape);
        Assert.Equal(new long[] { 3, 4 }, logVariance.shape);
    }

    [Fact]
    public void Default_options_match_fashion_mnist_sizes()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(new VaeOptions());
        var x = torch.rand(2, 784);
        var noise = torch.randn(2, 20);

        var (logits, mean, _) = model.forward(x, noise);

        Assert.Equal(new long[] { 2, 784 }, logits.shape);
        Assert.Equal(new long[] { 2, 20 }, mean.shape);
    }

    [Fact]
    public void Zero_noise_decodes_the_mean()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var x = torch.rand(5, 12);
        var noise = torch.zeros(5, 4);

        var (logits, mean, _) = model.forward(x, noise);
        var decodedMean = model.Decode(mean);

        Assert.Equal(decodedMean.data<float>().ToArray(), logits.data<float>().ToArray());
    }

    [Fact]
    public void Reparameterize_matches_hand_computed_sample()
    {
        using var scope = torch.NewDisposeScope();
        var mean = torch.tensor(new float[] { 1, -2 }, 1, 2);
        var logVariance = torch.tensor(new float[] { (float)Math.Log(4), 0 }, 1, 2);
        var noise = torch.tensor(new float[] { 0.5f, -1 }, 1, 2);

        var z = Vae.Reparameterize(mean, logVariance, noise).data<float>().ToArray();

        // 1 + √4 · 0.5 and −2 + √1 · (−1).
        Assert.Equal(2, z[0], 5);
        Assert.Equal(-3, z[1], 5);
    }

    [Fact]
    public void Reparameterize_passes_gradient_to_mean_and_log_variance()
    {
        using var scope = torch.NewDisposeScope();
        var mean = torch.tensor(new float[] { 1 }, 1, 1, requires_grad: true);
        var logVariance = torch.tensor(new float[] { 0 }, 1, 1, requires_grad: true);
        var noise = torch.tensor(new float[] { 2 }, 1, 1);

        var z = Vae.Reparameterize(mean, logVariance, noise);
        z.sum().backward();

        // dz/dμ = 1 and dz/d(log σ²) = ½ exp(½ log σ²) ε = ½ · 1 · 2.
        Assert.Equal(1, mean.grad!.item<float>(), 5);
        Assert.Equal(1, logVariance.grad!.item<float>(), 5);
    }

    [Fact]
    public void Parameters_have_readable_names()
    {
        using var model = new Vae(SmallOptions);

        var names = model.named_parameters().Select(parameter => parameter.name).ToHashSet();

        Assert.Contains("encoder.weight", names);
        Assert.Contains("encoder.bias", names);
        Assert.Contains("mean_head.weight", names);
        Assert.Contains("log_variance_head.weight", names);
        Assert.Contains("decoder_hidden.weight", names);
        Assert.Contains("decoder_output.weight", names);
        Assert.Equal(10, names.Count);
    }

    [Fact]
    public void Encoder_weight_has_input_and_hidden_sizes()
    {
        using var model = new Vae(SmallOptions);

        var weight = model.named_parameters().Single(parameter => parameter.name == "encoder.weight").parameter;

        // Linear stores its weight as [out_features, in_features].
        Assert.Equal(new long[] { 8, 12 }, weight.shape);
    }

    [Theory]
    [InlineData(0, 8, 4, "InputSize")]
    [InlineData(12, 0, 4, "HiddenSize")]
    [InlineData(12, 8, -1, "LatentSize")]
    public void Options_reject_sizes_below_one(int inputSize, int hiddenSize, int latentSize, string badName)
    {
        var options = new VaeOptions(inputSize, hiddenSize, latentSize);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(badName, error.ParamName);
        Assert.Contains("at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_rejects_input_of_wrong_width()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var x = torch.rand(3, 10);
        var noise = torch.randn(3, 4);

        var error = Assert.Throws<ArgumentException>(() => model.forward(x, noise));

        Assert.Contains("[3, 10]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 12]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_rejects_noise_of_wrong_shape()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Vae(SmallOptions);
        var x = torch.rand(3, 12);
        var noise = torch.randn(2, 4);

        var error = Assert.Throws<ArgumentException>(() => model.forward(x, noise));

        Assert.Contains("[2, 4]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 4]", error.Message, StringComparison.Ordinal);
    }
}
