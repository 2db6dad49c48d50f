using DeepGen.Distributed.Explain;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Tests.Explain;

public sealed class GradCamTests
{
    private const double Tolerance = 1e-5;

    public GradCamTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Compute_equals_relu_cam_for_gap_network()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        const int classIndex = 1;
        var features = torch.randn(2, 6, 5, 5).requires_grad_(true);
        var weight = torch.randn(3, 6);
        var bias = torch.randn(3);
        var logits = torch.matmul(features.mean([2L, 3L]), weight.t()) + bias;
        var score = logits[.., classIndex];

        var gradCam = GradCam.Compute(features, score);

        var expected = torch.nn.functional.relu(ClassActivationMap.Compute(features.detach(), weight, classIndex)) / 25;
        Assert.Equal(new long[] { 2, 5, 5 }, gradCam.shape);
        Assert.True(gradCam.allclose(expected, rtol: 0, atol: Tolerance), "Grad-CAM differs from ReLU(CAM) / (H·W)");
    }

    [Fact]
    public void ForClassifier_equals_relu_cam_over_area()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(8);
        using var model = new ClassifierCnn(new ClassifierOptions());
        model.eval();
        var images = torch.rand(3, 1, 28, 28);

        var gradCam = GradCam.ForClassifier(model, images, 4);

        Tensor expected;
        using (torch.no_grad())
        {
            var cam = ClassActivationMap.Compute(model.Features(images), model.ClassifierWeight, 4);
            expected = torch.nn.functional.relu(cam) / 49;
        }

        Assert.Equal(new long[] { 3, 7, 7 }, gradCam.shape);
        Assert.True(gradCam.allclose(expected, rtol: 0, atol: Tolerance), "Grad-CAM differs from ReLU(CAM) / 49");
        Assert.Null(model.ClassifierWeight.grad);
    }

    [Fact]
    public void ForDiscriminator_maps_are_non_negative()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var model = new DcganDiscriminator(new DcganOptions());
        model.eval();
        var images = (torch.rand(2, 1, 28, 28) * 2) - 1;

        var realMaps = GradCam.ForDiscriminator(model, images, real: true);
        var generatedMaps = GradCam.ForDiscriminator(model, images, real: false);

        Assert.Equal(new long[] { 2, 7, 7 }, realMaps.shape);
        Assert.True(realMaps.min().item<float>() >= 0, "the real map has negative values");
        Assert.True(generatedMaps.min().item<float>() >= 0, "the generated map has negative values");
        Assert.True(realMaps.add(generatedMaps).sum().item<float>() > 0, "both maps are zero everywhere");
    }

    [Fact]
    public void Discriminator_classify_matches_forward()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        using var model = new DcganDiscriminator(new DcganOptions());
        model.eval();
        using var noGrad = torch.no_grad();
        var images = (torch.rand(2, 1, 28, 28) * 2) - 1;

        var logits = model.call(images);
        var classified = model.Classify(model.Features(images));

        Assert.True(classified.allclose(logits, rtol: 0, atol: 1e-6), "Classify(Features(x)) differs from forward(x)");
    }

    [Fact]
    public void Compute_rejects_features_without_grad()
    {
        using var scope = torch.NewDisposeScope();
        var features = torch.rand(1, 2, 3, 3);
        var score = features.sum([1L, 2L, 3L]);

        Assert.Throws<ArgumentException>(() => GradCam.Compute(features, score));
    }

    [Fact]
    public void Named_layer_grad_cam_equals_relu_cam_over_positions()
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(21);
        using var model = torch.nn.Sequential(
            ("conv", torch.nn.Conv2d(1, 3, 3, padding: 1)),
            ("relu", torch.nn.ReLU()),
            ("pool", torch.nn.AdaptiveAvgPool2d(1)),
            ("flatten", torch.nn.Flatten()),
            ("classify", torch.nn.Linear(3, 2)));
        using var scope = torch.NewDisposeScope();
        var images = torch.rand(2, 1, 5, 5);
        var weight = ((TorchSharp.Modules.Linear)model.named_modules().Single(m => m.name == "classify").module).weight!;

        var maps = GradCam.ForLayer(model, "relu", images, logits => logits[.., 1]);

        Tensor expected;
        using (torch.no_grad())
        {
            var activation = torch.nn.functional.relu(((TorchSharp.Modules.Conv2d)model.named_modules().Single(m => m.name == "conv").module).call(images));
            expected = torch.nn.functional.relu(ClassActivationMap.Compute(activation, weight.detach(), 1)) / 25;
        }

        Assert.Equal(new long[] { 2, 5, 5 }, maps.shape);
        Assert.True(maps.allclose(expected, rtol: 1e-4, atol: 1e-6), "Grad-CAM at the ReLU differs from ReLU(CAM) / (H·W)");
    }

    [Fact]
    public void Unknown_layer_name_lists_the_layers()
    {
        TorchRuntime.EnsureLoaded();
        using var model = torch.nn.Sequential(("conv", torch.nn.Conv2d(1, 1, 3)), ("flatten", torch.nn.Flatten()));
        using var images = torch.rand(1, 1, 5, 5);

        var error = Assert.Throws<ArgumentException>(() => GradCam.ForLayer(model, "block9", images, x => x.sum(1)));

        Assert.Contains("no layer named 'block9'", error.Message, StringComparison.Ordinal);
        Assert.Contains("conv", error.Message, StringComparison.Ordinal);
    }
}
