using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class ClassifierCnnTests
{
    private const int BatchSize = 3;
    private static readonly ClassifierOptions DefaultOptions = new();

    public ClassifierCnnTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Forward_returns_one_logit_per_class()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ClassifierCnn(DefaultOptions);
        var images = torch.rand(BatchSize, 1, 28, 28);

        var logits = model.forward(images);

        Assert.Equal(new long[] { BatchSize, 10 }, logits.shape);
    }

    [Fact]
    public void Features_have_last_block_shape()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ClassifierCnn(DefaultOptions);
        var images = torch.rand(BatchSize, 1, 28, 28);

        var features = model.Features(images);

        Assert.Equal(new long[] { BatchSize, 128, 7, 7 }, features.shape);
        Assert.True(features.min().item<float>() >= 0, "features are taken after ReLU but contain negative values");
    }

    [Fact]
    public void Embed_has_one_value_per_channel()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ClassifierCnn(new ClassifierOptions(Classes: 4, Channels1: 8, Channels2: 16, Channels3: 24));
        var images = torch.rand(BatchSize, 1, 28, 28);

        var embedding = model.Embed(images);

        Assert.Equal(new long[] { BatchSize, 24 }, embedding.shape);
    }

    [Fact]
    public void Classifier_weight_is_classes_by_channels()
    {
        using var model = new ClassifierCnn(DefaultOptions);

        Assert.Equal(new long[] { 10, 128 }, model.ClassifierWeight.shape);
        Assert.Equal(new long[] { 10 }, model.ClassifierBias.shape);
    }

    [Fact]
    public void Forward_equals_linear_of_embedding()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        using var model = new ClassifierCnn(DefaultOptions);
        model.eval();
        var images = torch.rand(BatchSize, 1, 28, 28);

        var logits = model.forward(images);
        var expected = torch.nn.functional.linear(model.Embed(images), model.ClassifierWeight, model.ClassifierBias);

        Assert.True(
            logits.allclose(expected, rtol: 1e-5, atol: 1e-6),
            $"forward logits differ from Linear(Embed) by up to {(logits - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void Class_activation_map_mean_equals_logit()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(12);
        using var model = new ClassifierCnn(DefaultOptions);
        model.eval();
        var images = torch.rand(BatchSize, 1, 28, 28);

        var logits = model.forward(images);
        var features = model.Features(images);

        // CAM_c(x, y) = Σ_k w_k^c f_k(x, y), shape [B, Classes, 7, 7].
        var maps = torch.einsum("ck,bkxy->bcxy", model.ClassifierWeight, features);
        var mapMeans = maps.mean([2L, 3L]);
        var logitsWithoutBias = logits - model.ClassifierBias;

        Assert.Equal(new long[] { BatchSize, 10, 7, 7 }, maps.shape);
        Assert.True(
            mapMeans.allclose(logitsWithoutBias, rtol: 0, atol: 1e-5),
            $"mean CAM differs from logit − bias by up to {(mapMeans - logitsWithoutBias).abs().max().item<float>()}");
    }

    [Fact]
    public void Parameter_count_matches_layers()
    {
        using var model = new ClassifierCnn(DefaultOptions);

        var count = model.parameters().Sum(parameter => parameter.numel());

        // block1_conv: Conv2d(1, 32, 3) = 32·1·3·3 + 32 = 320. block1_norm: 2·32 = 64.
        // block2_conv: Conv2d(32, 64, 3) = 64·32·3·3 + 64 = 18,496. block2_norm: 2·64 = 128.
        // block3_conv: Conv2d(64, 128, 3) = 128·64·3·3 + 128 = 73,856. block3_norm: 2·128 = 256.
        // classify: Linear(128, 10) = 128·10 + 10 = 1,290.
        // Total: 320 + 64 + 18,496 + 128 + 73,856 + 256 + 1,290 = 94,410.
        Assert.Equal(94_410, count);
    }

    [Fact]
    public void Parameters_have_readable_names()
    {
        using var model = new ClassifierCnn(DefaultOptions);

        var names = model.named_parameters().Select(parameter => parameter.name).ToList();

        Assert.Equal(
            ["block1_conv.weight", "block1_conv.bias", "block1_norm.weight", "block1_norm.bias",
             "block2_conv.weight", "block2_conv.bias", "block2_norm.weight", "block2_norm.bias",
             "block3_conv.weight", "block3_conv.bias", "block3_norm.weight", "block3_norm.bias",
             "classify.weight", "classify.bias"],
            names);
    }

    [Fact]
    public void Float_buffers_are_running_statistics()
    {
        using var model = new ClassifierCnn(DefaultOptions);

        var floatBuffers = ModuleBuffers.FloatBuffers(model);

        // Three BatchNorm2d layers, each with running_mean and running_var of one value per channel.
        Assert.Equal(6, floatBuffers.Count);
        Assert.Equal(new long[] { 32 }, floatBuffers[0].shape);
        Assert.Equal(new long[] { 64 }, floatBuffers[2].shape);
        Assert.Equal(new long[] { 128 }, floatBuffers[4].shape);
    }

    [Fact]
    public void Forward_rejects_flattened_images()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ClassifierCnn(DefaultOptions);
        var images = torch.rand(2, 784);

        var error = Assert.Throws<ArgumentException>(() => model.forward(images));

        Assert.Contains("[2, 784]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 1, 28, 28]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 32, 64, 128, "Classes")]
    [InlineData(10, 0, 64, 128, "Channels1")]
    [InlineData(10, 32, -1, 128, "Channels2")]
    [InlineData(10, 32, 64, 16385, "Channels3")]
    public void Options_reject_sizes_out_of_range(int classes, int channels1, int channels2, int channels3, string badName)
    {
        var options = new ClassifierOptions(classes, channels1, channels2, channels3);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(badName, error.ParamName);
        Assert.Contains("1 to 16384", error.Message, StringComparison.Ordinal);
    }
}
