using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class DcganTrainingTests
{
    private const string DatasetDirectoryVariable = "DEEPGEN_FASHION_MNIST_DIR";
    private const int ImageCount = 256;
    private const int BatchSize = 32;
    private const int StepCount = 30;
    private const int LatentSize = 64;

    public DcganTrainingTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Alternating_adam_steps_teach_discriminator()
    {
        using var images = LoadTrainingImages(ImageCount);
        torch.manual_seed(7);
        var options = new DcganOptions(LatentSize);
        using var generator = new DcganGenerator(options);
        using var discriminator = new DcganDiscriminator(options);
        using var generatorOptimizer = torch.optim.Adam(generator.parameters(), lr: 2e-4, beta1: 0.5, beta2: 0.999);
        using var discriminatorOptimizer = torch.optim.Adam(discriminator.parameters(), lr: 2e-4, beta1: 0.5, beta2: 0.999);
        using var noiseGenerator = new torch.Generator(8);
        var discriminatorLosses = new List<double>(StepCount);
        var generatorLosses = new List<double>(StepCount);

        for (var step = 0; step < StepCount; step++)
        {
            using var scope = torch.NewDisposeScope();
            var firstRow = step * BatchSize % ImageCount;
            var real = images.narrow(0, firstRow, BatchSize);
            var z = torch.randn(new long[] { BatchSize, LatentSize }, generator: noiseGenerator);
            var fake = generator.forward(z);

            // Discriminator step on real and detached generated images, in separate forward passes.
            discriminatorOptimizer.zero_grad();
            var discriminatorLoss = GanLosses.DiscriminatorLoss(discriminator.forward(real), discriminator.forward(fake.detach()));
            discriminatorLoss.backward();
            discriminatorOptimizer.step();

            // Generator step through the updated discriminator.
            generatorOptimizer.zero_grad();
            var generatorLoss = GanLosses.GeneratorLoss(discriminator.forward(fake));
            generatorLoss.backward();
            generatorOptimizer.step();

            discriminatorLosses.Add(discriminatorLoss.item<float>());
            generatorLosses.Add(generatorLoss.item<float>());
        }

        Assert.All(discriminatorLosses, value => Assert.True(double.IsFinite(value), $"discriminator loss {value} is not finite"));
        Assert.All(generatorLosses, value => Assert.True(double.IsFinite(value), $"generator loss {value} is not finite"));

        // 2 ln 2 is the cost of a discriminator that outputs D = 0.5 for every image, so a lower value shows that
        // it separates real from generated images.
        var lowest = discriminatorLosses.Min();
        Assert.True(
            lowest < 2 * Math.Log(2),
            $"discriminator loss never fell below 2 ln 2 ≈ 1.386 nats; lowest was {lowest:F3}");
    }

    /// <summary>Reads the first training images as a [count, 1, 28, 28] tensor with pixels scaled to [−1, 1].</summary>
    private static torch.Tensor LoadTrainingImages(int count)
    {
        var directory = Environment.GetEnvironmentVariable(DatasetDirectoryVariable) ?? FashionMnist.DefaultDirectory;
        var dataset = FashionMnist.Load(directory, DatasetSplit.Train).Slice(0, count);

        var indices = Enumerable.Range(0, count).ToArray();
        var pixels = new float[count * dataset.PixelsPerImage];
        dataset.CopyNormalized(indices, pixels);

        // CopyNormalized scales pixels to [0, 1], and 2p − 1 maps them onto the generator's Tanh range.
        var scaled = pixels.Select(pixel => (2 * pixel) - 1).ToArray();
        return torch.tensor(scaled, count, 1, dataset.Rows, dataset.Columns);
    }
}
