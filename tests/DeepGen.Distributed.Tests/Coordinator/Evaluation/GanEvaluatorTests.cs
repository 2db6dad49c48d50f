using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Evaluation;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Evaluation;

public sealed class GanEvaluatorTests
{
    private static readonly Lazy<ImageDataset> TestSlice = new(() => FashionMnist.Load(FashionMnist.DefaultDirectory, DatasetSplit.Test).Slice(0, 1000));

    [Fact]
    public void Untrained_generator_is_far_from_real_images()
    {
        TorchRuntime.EnsureLoaded();
        var test = TestSlice.Value;
        torch.manual_seed(4);
        using var classifier = new ClassifierCnn(new ClassifierOptions());
        var config = new TrainingConfig(Model: "gan", Seed: 3, LatentSize: 64);
        using var evaluator = new GanEvaluator(test, "dcgan", new DcganOptions(64), ParameterCodec.Encode(classifier), seed: 3);

        var self = evaluator.FrechetDistanceTo(test);
        var otherReal = evaluator.FrechetDistanceTo(FashionMnist.Load(FashionMnist.DefaultDirectory, DatasetSplit.Train).Slice(0, 1000));
        var metrics = evaluator.Evaluate(ReplicaFactory.InitialWeights(config, test.Rows, test.Columns));

        Assert.InRange(self, -1e-6, 1e-6);
        Assert.True(otherReal > self, $"training images gave {otherReal}");
        Assert.True(metrics[0] > 10 * otherReal, $"untrained generator {metrics[0]} against real images {otherReal}");
        Assert.InRange(metrics[1], 0, Math.Log(10) + 1e-9);
        Assert.InRange(metrics[2], 0, 1);
    }

    [Fact]
    public void Without_classifier_only_discriminator_accuracy_is_reported()
    {
        TorchRuntime.EnsureLoaded();
        var test = TestSlice.Value;
        var config = new TrainingConfig(Model: "gan", Seed: 3, LatentSize: 64, GanArchitecture: "mlp");
        using var evaluator = new GanEvaluator(test, "mlp", new DcganOptions(64), classifierWeights: null, seed: 3);

        var metrics = evaluator.Evaluate(ReplicaFactory.InitialWeights(config, test.Rows, test.Columns));

        Assert.True(double.IsNaN(metrics[0]));
        Assert.True(double.IsNaN(metrics[1]));
        Assert.InRange(metrics[2], 0, 1);
        Assert.Throws<InvalidOperationException>(() => evaluator.FrechetDistanceTo(test));
    }
}
