using System.Buffers.Binary;
using DeepGen.Distributed.Coordinator.Evaluation;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Evaluation;

public sealed class VaeEvaluatorTests : IDisposable
{
    private const string DatasetDirectoryVariable = "DEEPGEN_FASHION_MNIST_DIR";
    private const int TestImageCount = 500;
    private const int GridPadding = 2;

    private static readonly Lazy<ImageDataset> TestImages = new(LoadTestImages);

    private readonly TemporaryDirectory folder = new();

    public VaeEvaluatorTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Untrained_model_scores_near_784_ln_2()
    {
        var options = new VaeOptions();
        byte[] weights = CreateInitialWeights(options);
        using var evaluator = new VaeEvaluator(TestImages.Value, options, seed: 7);

        var first = evaluator.Evaluate(weights);
        var second = evaluator.Evaluate(weights);

        // An untrained decoder gives logits near 0, so every pixel costs about ln 2 nats.
        Assert.InRange(first.NegativeElbo, 480, 620);
        Assert.Equal(first.NegativeElbo, second.NegativeElbo);
        Assert.Equal(first.Reconstruction, second.Reconstruction);
        Assert.Equal(first.Kl, second.Kl);
        Assert.True(first.Kl >= 0, $"KL {first.Kl} is negative");

        double sum = first.Reconstruction + first.Kl;
        double relativeError = Math.Abs(sum - first.NegativeElbo) / first.NegativeElbo;
        Assert.True(relativeError < 1e-6,
            $"reconstruction {first.Reconstruction} + KL {first.Kl} = {sum} differs from negative ELBO {first.NegativeElbo}");
    }

    [Fact]
    public void Different_weights_score_differently()
    {
        var options = new VaeOptions(HiddenSize: 64, LatentSize: 8);
        using var evaluator = new VaeEvaluator(TestImages.Value, options, seed: 7);

        var first = evaluator.Evaluate(CreateInitialWeights(options, seed: 1));
        var second = evaluator.Evaluate(CreateInitialWeights(options, seed: 2));

        Assert.NotEqual(first.NegativeElbo, second.NegativeElbo);
    }

    [Fact]
    public void Weights_of_another_size_are_rejected()
    {
        using var evaluator = new VaeEvaluator(TestImages.Value, new VaeOptions(), seed: 7);
        byte[] weights = CreateInitialWeights(new VaeOptions(HiddenSize: 64));

        Assert.Throws<InvalidDataException>(() => evaluator.Evaluate(weights));
    }

    [Fact]
    public void Write_images_produces_grids_of_expected_size()
    {
        var options = new VaeOptions();
        byte[] weights = CreateInitialWeights(options);
        using var evaluator = new VaeEvaluator(TestImages.Value, options, seed: 7);
        string reconstructionsPath = folder.File("reconstructions.png");
        string samplesPath = folder.File("samples.png");

        evaluator.WriteImages(weights, reconstructionsPath, samplesPath);

        // 32 originals and 32 reconstructions in alternating rows of 8 make 8 grid rows, and so do 64 samples.
        int expectedWidth = GridSize(VaeEvaluator.GridColumns, 28);
        var (reconstructionsWidth, reconstructionsHeight) = ReadPngSize(reconstructionsPath);
        Assert.Equal(expectedWidth, reconstructionsWidth);
        Assert.Equal(GridSize(2 * VaeEvaluator.ReconstructionCount / VaeEvaluator.GridColumns, 28), reconstructionsHeight);

        var (samplesWidth, samplesHeight) = ReadPngSize(samplesPath);
        Assert.Equal(expectedWidth, samplesWidth);
        Assert.Equal(GridSize(VaeEvaluator.SampleCount / VaeEvaluator.GridColumns, 28), samplesHeight);

        Assert.False(File.Exists(reconstructionsPath + ".tmp"));
        Assert.False(File.Exists(samplesPath + ".tmp"));
    }

    [Fact]
    public void Small_test_set_pads_partial_row()
    {
        var options = new VaeOptions(HiddenSize: 32, LatentSize: 4);
        using var evaluator = new VaeEvaluator(TestImages.Value.Slice(0, 11), options, seed: 7);
        string reconstructionsPath = folder.File("reconstructions.png");

        evaluator.WriteImages(CreateInitialWeights(options), reconstructionsPath, folder.File("samples.png"));

        // 11 images fill two rows of originals, each followed by a row of reconstructions.
        var (width, height) = ReadPngSize(reconstructionsPath);
        Assert.Equal(GridSize(VaeEvaluator.GridColumns, 28), width);
        Assert.Equal(GridSize(4, 28), height);
    }

    [Fact]
    public void Mismatched_image_size_is_rejected()
    {
        var options = new VaeOptions(InputSize: 100);

        var error = Assert.Throws<ArgumentException>(() => new VaeEvaluator(TestImages.Value, options, seed: 7));

        Assert.Contains("784 pixels per image", error.Message, StringComparison.Ordinal);
    }

    private static byte[] CreateInitialWeights(VaeOptions options, long seed = 1)
    {
        torch.manual_seed(seed);
        using var model = new Vae(options);
        return ParameterCodec.Encode(model);
    }

    private static int GridSize(int tiles, int tileSize) => (tiles * (tileSize + GridPadding)) + GridPadding;

    /// <summary>Reads width and height from the IHDR chunk, which follows the 8-byte signature and the
    /// chunk's length and type.</summary>
    private static (int Width, int Height) ReadPngSize(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        Assert.True(file.Length > 24, $"{path} has only {file.Length} bytes");
        Assert.Equal("IHDR"u8.ToArray(), file[12..16]);
        return (BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(20)));
    }

    private static ImageDataset LoadTestImages()
    {
        string directory = Environment.GetEnvironmentVariable(DatasetDirectoryVariable) ?? FashionMnist.DefaultDirectory;
        return FashionMnist.Load(directory, DatasetSplit.Test).Slice(0, TestImageCount);
    }
}
