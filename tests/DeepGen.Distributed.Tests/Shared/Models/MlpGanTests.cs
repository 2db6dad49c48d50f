using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class MlpGanTests
{
    private const int BatchSize = 3;
    private static readonly DcganOptions DefaultOptions = new();

    public MlpGanTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Generator_returns_images_in_tanh_range()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(6);
        using var generator = new MlpGanGenerator(DefaultOptions);
        var z = torch.randn(BatchSize, 64);

        var images = generator.forward(z);

        Assert.Equal(new long[] { BatchSize, 1, 28, 28 }, images.shape);
        Assert.True(images.min().item<float>() >= -1, $"minimum pixel {images.min().item<float>()} is below −1");
        Assert.True(images.max().item<float>() <= 1, $"maximum pixel {images.max().item<float>()} is above 1");
    }

    [Fact]
    public void Generator_honours_latent_size()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new MlpGanGenerator(new DcganOptions(LatentSize: 5));
        var z = torch.randn(2, 5);

        var images = generator.forward(z);

        Assert.Equal(new long[] { 2, 1, 28, 28 }, images.shape);
    }

    [Fact]
    public void Generator_rejects_wrong_latent_width()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new MlpGanGenerator(DefaultOptions);
        var z = torch.randn(2, 10);

        var error = Assert.Throws<ArgumentException>(() => generator.forward(z));

        Assert.Contains("[2, 10]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 64]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Discriminator_returns_one_logit_per_image()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new MlpGanDiscriminator(DefaultOptions);
        var images = (torch.rand(BatchSize, 1, 28, 28) * 2) - 1;

        var logits = discriminator.forward(images);

        Assert.Equal(new long[] { BatchSize, 1 }, logits.shape);
    }

    [Fact]
    public void Discriminator_rejects_flattened_images()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new MlpGanDiscriminator(DefaultOptions);
        var images = torch.rand(2, 784);

        var error = Assert.Throws<ArgumentException>(() => discriminator.forward(images));

        Assert.Contains("[2, 784]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 1, 28, 28]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generator_parameter_count_matches_layers()
    {
        using var generator = new MlpGanGenerator(DefaultOptions);

        var count = generator.parameters().Sum(parameter => parameter.numel());

        // hidden1: Linear(64, 256) = 64·256 + 256 = 16,640.
        // hidden2: Linear(256, 512) = 256·512 + 512 = 131,584.
        // output: Linear(512, 784) = 512·784 + 784 = 402,192.
        // Total: 16,640 + 131,584 + 402,192 = 550,416.
        Assert.Equal(550_416, count);
    }

    [Fact]
    public void Discriminator_parameter_count_matches_layers()
    {
        using var discriminator = new MlpGanDiscriminator(DefaultOptions);

        var count = discriminator.parameters().Sum(parameter => parameter.numel());

        // hidden1: Linear(784, 512) = 784·512 + 512 = 401,920.
        // hidden2: Linear(512, 256) = 512·256 + 256 = 131,328.
        // classify: Linear(256, 1) = 256 + 1 = 257.
        // Total: 401,920 + 131,328 + 257 = 533,505.
        Assert.Equal(533_505, count);
    }

    [Fact]
    public void Models_have_no_buffers()
    {
        using var generator = new MlpGanGenerator(DefaultOptions);
        using var discriminator = new MlpGanDiscriminator(DefaultOptions);

        Assert.Empty(generator.buffers());
        Assert.Empty(discriminator.buffers());
    }

    [Fact]
    public void Batch_rows_are_independent()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(9);
        using var generator = new MlpGanGenerator(DefaultOptions);
        using var discriminator = new MlpGanDiscriminator(DefaultOptions);
        var z = torch.randn(4, 64);

        var wholeBatch = discriminator.forward(generator.forward(z));
        var firstHalf = discriminator.forward(generator.forward(z.narrow(0, 0, 2)));
        var secondHalf = discriminator.forward(generator.forward(z.narrow(0, 2, 2)));
        var halves = torch.cat([firstHalf, secondHalf], 0);

        Assert.True(
            wholeBatch.allclose(halves, rtol: 1e-5, atol: 1e-6),
            $"logits depend on how the batch is split, by up to {(wholeBatch - halves).abs().max().item<float>()}");
    }

    [Fact]
    public void Parameters_have_readable_names()
    {
        using var generator = new MlpGanGenerator(DefaultOptions);
        using var discriminator = new MlpGanDiscriminator(DefaultOptions);

        var generatorNames = generator.named_parameters().Select(parameter => parameter.name).ToList();
        var discriminatorNames = discriminator.named_parameters().Select(parameter => parameter.name).ToList();

        Assert.Equal(["hidden1.weight", "hidden1.bias", "hidden2.weight", "hidden2.bias", "output.weight", "output.bias"], generatorNames);
        Assert.Equal(["hidden1.weight", "hidden1.bias", "hidden2.weight", "hidden2.bias", "classify.weight", "classify.bias"], discriminatorNames);
    }
}
