using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class DcganTests
{
    private const int BatchSize = 3;
    private static readonly DcganOptions DefaultOptions = new();

    public DcganTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Generator_returns_images_in_tanh_range()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        using var generator = new DcganGenerator(DefaultOptions);
        var z = torch.randn(BatchSize, 64);

        var images = generator.forward(z);

        Assert.Equal(new long[] { BatchSize, 1, 28, 28 }, images.shape);
        Assert.True(images.min().item<float>() >= -1, $"minimum pixel {images.min().item<float>()} is below −1");
        Assert.True(images.max().item<float>() <= 1, $"maximum pixel {images.max().item<float>()} is above 1");
        Assert.True(images.std().item<float>() > 0, "every generated pixel has the same value");
    }

    [Fact]
    public void Generator_honours_latent_size()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new DcganGenerator(new DcganOptions(LatentSize: 5));
        var z = torch.randn(2, 5);

        var images = generator.forward(z);

        Assert.Equal(new long[] { 2, 1, 28, 28 }, images.shape);
    }

    [Fact]
    public void Generator_rejects_wrong_latent_width()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new DcganGenerator(DefaultOptions);
        var z = torch.randn(2, 10);

        var error = Assert.Throws<ArgumentException>(() => generator.forward(z));

        Assert.Contains("[2, 10]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 64]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Discriminator_returns_one_logit_per_image()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new DcganDiscriminator(DefaultOptions);
        var images = torch.rand(BatchSize, 1, 28, 28) * 2 - 1;

        var logits = discriminator.forward(images);

        Assert.Equal(new long[] { BatchSize, 1 }, logits.shape);
    }

    [Fact]
    public void Discriminator_features_have_last_block_shape()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new DcganDiscriminator(DefaultOptions);
        var images = torch.rand(BatchSize, 1, 28, 28) * 2 - 1;

        var features = discriminator.Features(images);

        Assert.Equal(new long[] { BatchSize, 128, 7, 7 }, features.shape);
    }

    [Fact]
    public void Discriminator_logits_are_linear_in_features()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new DcganDiscriminator(DefaultOptions);
        discriminator.eval();
        var images = torch.rand(BatchSize, 1, 28, 28) * 2 - 1;
        var parameters = discriminator.named_parameters().ToDictionary(parameter => parameter.name, parameter => parameter.parameter);

        var logits = discriminator.forward(images);
        var features = discriminator.Features(images);
        var expected = torch.nn.functional.linear(features.flatten(1), parameters["classify.weight"], parameters["classify.bias"]);

        Assert.True(
            logits.allclose(expected, rtol: 1e-5, atol: 1e-6),
            $"forward logits differ from Linear(Features) by up to {(logits - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void Discriminator_rejects_flattened_images()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new DcganDiscriminator(DefaultOptions);
        var images = torch.rand(2, 784);

        var error = Assert.Throws<ArgumentException>(() => discriminator.forward(images));

        Assert.Contains("[2, 784]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 1, 28, 28]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generator_parameter_count_matches_layers()
    {
        using var generator = new DcganGenerator(DefaultOptions);

        var count = generator.parameters().Sum(parameter => parameter.numel());

        // project: Linear(64, 6272) = 64·6272 + 6272 = 407,680.
        // project_norm: BatchNorm1d(6272) weight and bias = 12,544.
        // upsample1: ConvTranspose2d(128, 64, 4) = 128·64·4·4 + 64 = 131,136.
        // upsample1_norm: BatchNorm2d(64) = 128.
        // upsample2: ConvTranspose2d(64, 1, 4) = 64·1·4·4 + 1 = 1,025.
        // Total: 407,680 + 12,544 + 131,136 + 128 + 1,025 = 552,513.
        Assert.Equal(552_513, count);
    }

    [Fact]
    public void Discriminator_parameter_count_matches_layers()
    {
        using var discriminator = new DcganDiscriminator(DefaultOptions);

        var count = discriminator.parameters().Sum(parameter => parameter.numel());

        // downsample1: Conv2d(1, 64, 4) = 64·1·4·4 + 64 = 1,088.
        // downsample2: Conv2d(64, 128, 4) = 128·64·4·4 + 128 = 131,200.
        // downsample2_norm: BatchNorm2d(128) weight and bias = 256.
        // classify: Linear(6272, 1) = 6272 + 1 = 6,273.
        // Total: 1,088 + 131,200 + 256 + 6,273 = 138,817.
        Assert.Equal(138_817, count);
    }

    [Fact]
    public void Parameters_have_readable_names()
    {
        using var generator = new DcganGenerator(DefaultOptions);
        using var discriminator = new DcganDiscriminator(DefaultOptions);

        var generatorNames = generator.named_parameters().Select(parameter => parameter.name).ToList();
        var discriminatorNames = discriminator.named_parameters().Select(parameter => parameter.name).ToList();

        Assert.Equal(
            ["project.weight", "project.bias", "project_norm.weight", "project_norm.bias", "upsample1.weight", "upsample1.bias",
             "upsample1_norm.weight", "upsample1_norm.bias", "upsample2.weight", "upsample2.bias"],
            generatorNames);
        Assert.Equal(
            ["downsample1.weight", "downsample1.bias", "downsample2.weight", "downsample2.bias",
             "downsample2_norm.weight", "downsample2_norm.bias", "classify.weight", "classify.bias"],
            discriminatorNames);
    }

    [Fact]
    public void Float_buffers_are_generator_running_statistics()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new DcganGenerator(DefaultOptions);

        var floatBuffers = ModuleBuffers.FloatBuffers(generator);
        var allBuffers = generator.named_buffers().Select(buffer => buffer.name).ToList();

        // BatchNorm1d(6272) then BatchNorm2d(64), each with running_mean and running_var.
        Assert.Equal(6, allBuffers.Count);
        Assert.Contains("project_norm.num_batches_tracked", allBuffers);
        Assert.Equal(4, floatBuffers.Count);
        Assert.Equal(new long[] { 6272 }, floatBuffers[0].shape);
        Assert.Equal(new long[] { 6272 }, floatBuffers[1].shape);
        Assert.Equal(new long[] { 64 }, floatBuffers[2].shape);
        Assert.Equal(new long[] { 64 }, floatBuffers[3].shape);

        // Fresh running statistics are mean 0 and variance 1.
        Assert.Equal(0, floatBuffers[0].abs().max().item<float>());
        Assert.Equal(1, floatBuffers[1].min().item<float>());
        Assert.Equal(1, floatBuffers[1].max().item<float>());
        Assert.Equal(0, floatBuffers[2].abs().max().item<float>());
        Assert.Equal(1, floatBuffers[3].min().item<float>());
    }

    [Fact]
    public void Float_buffers_are_discriminator_running_statistics()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new DcganDiscriminator(DefaultOptions);

        var floatBuffers = ModuleBuffers.FloatBuffers(discriminator);
        var allBuffers = discriminator.named_buffers().Select(buffer => buffer.name).ToList();

        Assert.Equal(["downsample2_norm.running_mean", "downsample2_norm.running_var", "downsample2_norm.num_batches_tracked"], allBuffers);
        Assert.Equal(2, floatBuffers.Count);
        Assert.Equal(new long[] { 128 }, floatBuffers[0].shape);
        Assert.Equal(new long[] { 128 }, floatBuffers[1].shape);
        Assert.All(floatBuffers, buffer => Assert.Equal(torch.float32, buffer.dtype));
    }

    [Fact]
    public void Train_forward_updates_float_buffers()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new DcganGenerator(DefaultOptions);
        using var discriminator = new DcganDiscriminator(DefaultOptions);
        var before = ModuleBuffers.FloatBuffers(generator).Concat(ModuleBuffers.FloatBuffers(discriminator))
            .Select(buffer => buffer.clone())
            .ToList();

        using (torch.no_grad())
        {
            var images = generator.forward(torch.randn(4, 64));
            discriminator.forward(images);
        }

        var after = ModuleBuffers.FloatBuffers(generator).Concat(ModuleBuffers.FloatBuffers(discriminator)).ToList();
        Assert.Equal(before.Count, after.Count);
        for (var i = 0; i < after.Count; i++)
        {
            Assert.False(before[i].equal(after[i]).all().item<bool>(), $"float buffer {i} did not change after a train-mode forward");
        }
    }

    [Fact]
    public void Eval_forward_keeps_float_buffers()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new DcganDiscriminator(DefaultOptions);
        discriminator.eval();
        var before = ModuleBuffers.FloatBuffers(discriminator).Select(buffer => buffer.clone()).ToList();

        using (torch.no_grad())
        {
            discriminator.forward(torch.rand(4, 1, 28, 28));
        }

        var after = ModuleBuffers.FloatBuffers(discriminator);
        Assert.True(before[0].equal(after[0]).all().item<bool>(), "running_mean changed in eval mode");
        Assert.True(before[1].equal(after[1]).all().item<bool>(), "running_var changed in eval mode");
    }

    [Fact]
    public void Float_buffers_alias_module_state()
    {
        using var scope = torch.NewDisposeScope();
        using var discriminator = new DcganDiscriminator(DefaultOptions);

        using (torch.no_grad())
        {
            ModuleBuffers.FloatBuffers(discriminator)[0].fill_(0.25f);
        }

        var runningMean = discriminator.named_buffers().Single(buffer => buffer.name == "downsample2_norm.running_mean").buffer;
        Assert.Equal(0.25f, runningMean.min().item<float>());
        Assert.Equal(0.25f, runningMean.max().item<float>());
    }

    [Fact]
    public void Options_reject_latent_size_below_one()
    {
        var options = new DcganOptions(LatentSize: 0);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("LatentSize", error.ParamName);
        Assert.Contains("at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_reject_image_size_other_than_28()
    {
        var options = new DcganOptions(ImageSize: 32);

        var error = Assert.Throws<ArgumentException>(() => new DcganGenerator(options));

        Assert.Equal("ImageSize", error.ParamName);
        Assert.Contains("only supports 28×28", error.Message, StringComparison.Ordinal);
    }
}
