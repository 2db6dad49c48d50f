using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class ModelTrainingChecksTests
{
    private const int ImageCount = 2048;
    private const int BatchSize = 64;
    private const int WindowSize = 5;

    public ModelTrainingChecksTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Classifier_learns_fashion_mnist_batches()
    {
        const int StepCount = 60;
        const double ChanceAccuracy = 0.1;
        var trainingBatch = LoadTrainingBatch();
        using var images = trainingBatch.Images;
        using var labels = trainingBatch.Labels;
        using var channelImages = images.reshape(ImageCount, 1, 28, 28);
        torch.manual_seed(21);
        using var model = new ClassifierCnn(new ClassifierOptions());
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
        var accuracies = new List<double>(StepCount);

        for (var step = 0; step < StepCount; step++)
        {
            using var scope = torch.NewDisposeScope();
            var firstRow = step * BatchSize % ImageCount;
            var batch = channelImages.narrow(0, firstRow, BatchSize);
            var batchLabels = labels.narrow(0, firstRow, BatchSize);

            optimizer.zero_grad();

            var logits = model.forward(batch);
            var loss = ClassifierLoss.CrossEntropySum(logits, batchLabels) / BatchSize;
            loss.backward();

            optimizer.step();

            var correct = logits.argmax(1).eq(batchLabels).sum().item<long>();
            accuracies.Add((double)correct / BatchSize);
        }

        // Each batch is scored before the step on it. With 32 batches per pass, the last steps revisit batches of
        // the first pass, so this is training accuracy, not held-out accuracy.
        var lastSteps = accuracies.TakeLast(WindowSize).Average();
        Assert.True(
            lastSteps > 0.5,
            $"mean batch accuracy over the last {WindowSize} of {StepCount} steps is {lastSteps:P1}, chance is {ChanceAccuracy:P0}");
    }

    [Fact]
    public void Autoencoder_mse_falls_with_adam()
    {
        const int StepCount = 50;
        var trainingBatch = LoadTrainingBatch();
        using var images = trainingBatch.Images;
        trainingBatch.Labels.Dispose();
        torch.manual_seed(22);
        using var model = new Autoencoder(new AutoencoderOptions());
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
        var meanSquaredErrors = new List<double>(StepCount);

        for (var step = 0; step < StepCount; step++)
        {
            using var scope = torch.NewDisposeScope();
            var firstRow = step * BatchSize % ImageCount;
            var batch = images.narrow(0, firstRow, BatchSize);

            optimizer.zero_grad();

            var (loss, squaredErrorSum) = AutoencoderLoss.Compute(model, batch, weightDecay: 0, normalizer: BatchSize);
            loss.backward();

            optimizer.step();

            meanSquaredErrors.Add(squaredErrorSum.item<float>() / (BatchSize * 784.0));
        }

        var firstSteps = meanSquaredErrors.Take(WindowSize).Average();
        var lastSteps = meanSquaredErrors.TakeLast(WindowSize).Average();
        Assert.All(meanSquaredErrors, value => Assert.True(double.IsFinite(value), $"MSE {value} is not finite"));
        Assert.True(
            lastSteps < 0.9 * firstSteps,
            $"per-pixel MSE went from {firstSteps:F4} (first {WindowSize} steps) to {lastSteps:F4} (last {WindowSize} steps), less than a 10% drop");
    }

    /// <summary>Loads the first training images as [ImageCount, 784] floats in [0, 1] and their labels as int64.</summary>
    private static (torch.Tensor Images, torch.Tensor Labels) LoadTrainingBatch()
    {
        var dataset = FashionMnist.Load(FashionMnist.DefaultDirectory, DatasetSplit.Train).Slice(0, ImageCount);
        var indices = Enumerable.Range(0, ImageCount).ToArray();
        var pixels = new float[ImageCount * dataset.PixelsPerImage];
        dataset.CopyNormalized(indices, pixels);
        var labels = dataset.Labels.Select(label => (long)label).ToArray();

        return (torch.tensor(pixels, ImageCount, dataset.PixelsPerImage), torch.tensor(labels));
    }
}
