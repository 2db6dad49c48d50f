using System.IO.Compression;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class VaeTrainingTests
{
    private const string DatasetDirectoryVariable = "DEEPGEN_FASHION_MNIST_DIR";
    private const string DefaultDatasetDirectory = "/usr/share/datasets/fashion-mnist";
    private const int ImageCount = 512;
    private const int PixelsPerImage = 28 * 28;
    private const int BatchSize = 64;
    private const int StepCount = 100;
    private const int WindowSize = 5;

    public VaeTrainingTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Adam_steps_lower_negative_elbo_on_fashion_mnist()
    {
        using var images = LoadTrainingImages(ImageCount);
        torch.manual_seed(1);
        using var model = new Vae(new VaeOptions());
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
        using var noiseGenerator = new torch.Generator(2);
        var lossOptions = new VaeLossOptions();
        var negativeElboPerImage = new List<double>(StepCount);

        for (var step = 0; step < StepCount; step++)
        {
            using var scope = torch.NewDisposeScope();
            var firstRow = step * BatchSize % ImageCount;
            var batch = images.narrow(0, firstRow, BatchSize);
            var noise = torch.randn(new long[] { BatchSize, 20 }, generator: noiseGenerator);

            optimizer.zero_grad();

            var terms = VaeLoss.Compute(model, batch, noise, lossOptions, normalizer: BatchSize);
            terms.Loss.backward();

            optimizer.step();

            var negativeElbo = (terms.Reconstruction.item<float>() + terms.Kl.item<float>()) / BatchSize;
            negativeElboPerImage.Add(negativeElbo);
        }

        var firstSteps = negativeElboPerImage.Take(WindowSize).Average();
        var lastSteps = negativeElboPerImage.TakeLast(WindowSize).Average();
        Assert.All(negativeElboPerImage, value => Assert.True(double.IsFinite(value), $"negative ELBO {value} is not finite"));
        Assert.True(
            lastSteps < firstSteps,
            $"mean negative ELBO per image rose from {firstSteps:F2} (first {WindowSize} steps) to {lastSteps:F2} (last {WindowSize} steps) nats");
    }

    /// <summary>Reads the first images of the IDX training file as a [count, 784] tensor scaled to [0, 1].</summary>
    private static torch.Tensor LoadTrainingImages(int count)
    {
        var directory = Environment.GetEnvironmentVariable(DatasetDirectoryVariable) ?? DefaultDatasetDirectory;
        var path = Path.Combine(directory, "train-images-idx3-ubyte.gz");
        Assert.True(File.Exists(path), $"Fashion-MNIST training images not found at {path}. Set {DatasetDirectoryVariable} to the folder that contains them.");

        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);

        // IDX image header: magic 0x00000803, image count, rows, columns, each a big-endian int32.
        var header = new byte[16];
        gzip.ReadExactly(header);
        Assert.Equal(0x803, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header));

        var pixels = new byte[count * PixelsPerImage];
        gzip.ReadExactly(pixels);
        var scaled = pixels.Select(pixel => pixel / 255f).ToArray();
        return torch.tensor(scaled, count, PixelsPerImage);
    }
}
