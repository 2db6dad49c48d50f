using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Coordinator.Evaluation;

/// <summary>
/// Scores VAE weights on a test set and renders preview images, using a private model into which each call
/// loads the weights it is given.
/// </summary>
/// <remarks>
/// Not thread-safe. Call every member, the constructor included, from one thread, because TorchSharp's
/// no-grad mode is per thread and the model is shared between calls. All work runs on the calling thread.
/// </remarks>
public sealed class VaeEvaluator : IEvaluator
{
    /// <summary>Test images per forward pass in <see cref="Evaluate"/>.</summary>
    public const int BatchSize = 1000;

    /// <summary>Test images shown, each with its reconstruction, by <see cref="WriteImages"/>.</summary>
    public const int ReconstructionCount = 32;

    /// <summary>Images decoded from the prior by <see cref="WriteImages"/>.</summary>
    public const int SampleCount = 64;

    /// <summary>Tiles per row in both preview grids.</summary>
    public const int GridColumns = EvaluationImages.GridColumns;

    private readonly ImageDataset testSet;
    private readonly int seed;
    private readonly Vae model;

    /// <summary>Creates the evaluator and its model.</summary>
    /// <param name="testSet">Images to score, each with <see cref="VaeOptions.InputSize"/> pixels.</param>
    /// <param name="options">Layer sizes, which must match the weights passed later.</param>
    /// <param name="seed">Seed of the noise generator, reset on every call so that equal weights give equal results.</param>
    /// <exception cref="ArgumentException">The image size does not match <see cref="VaeOptions.InputSize"/>.</exception>
    public VaeEvaluator(ImageDataset testSet, VaeOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(testSet);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (testSet.PixelsPerImage != options.InputSize)
        {
            throw new ArgumentException(
                $"Test set '{testSet.Name}' has {testSet.PixelsPerImage} pixels per image, but the model's InputSize is " +
                $"{options.InputSize}. Build the options with InputSize = {testSet.PixelsPerImage}.",
                nameof(testSet));
        }

        TorchRuntime.EnsureLoaded();
        this.testSet = testSet;
        this.seed = seed;
        model = DefaultGenerator.Unseeded(() => new Vae(options));
        model.eval();
    }

    /// <summary>
    /// Loads <paramref name="weights"/> and estimates the negative ELBO per test image with one sample of z per
    /// image: (Σ reconstruction + Σ KL) / N over all N test images.
    /// </summary>
    /// <param name="weights">Parameters encoded by <see cref="ParameterCodec.Encode"/>.</param>
    /// <returns>The negative ELBO and its reconstruction and KL terms, each in nats per image. The first equals
    /// the sum of the other two up to rounding.</returns>
    /// <exception cref="InvalidDataException">The weights do not fit this model's architecture.</exception>
    public (double NegativeElbo, double Reconstruction, double Kl) Evaluate(ReadOnlySpan<byte> weights)
    {
        LoadWeights(weights);

        using var noGrad = torch.no_grad();
        using var generator = new Generator((ulong)seed);
        int latentSize = model.Options.LatentSize;
        double reconstructionSum = 0;
        double klSum = 0;

        for (int first = 0; first < testSet.Count; first += BatchSize)
        {
            using var scope = torch.NewDisposeScope();
            int count = Math.Min(BatchSize, testSet.Count - first);
            var images = LoadImages(first, count);
            var noise = torch.randn([count, latentSize], generator: generator);

            var (logits, mean, logVariance) = model.forward(images, noise);
            var reconstruction = Losses.BernoulliReconstruction(logits, images);
            var kl = Losses.GaussianKlToStandardNormal(mean, logVariance);

            reconstructionSum += reconstruction.item<float>();
            klSum += kl.item<float>();
        }

        double imageCount = testSet.Count;
        return ((reconstructionSum + klSum) / imageCount, reconstructionSum / imageCount, klSum / imageCount);
    }

    /// <summary>Loads <paramref name="weights"/> and writes two PNG grids of <see cref="GridColumns"/> columns.</summary>
    /// <remarks>
    /// The reconstructions grid shows the first <see cref="ReconstructionCount"/> test images (fewer when the
    /// test set is smaller). Rows alternate: grid row 2k shows images 8k to 8k + 7 and grid row 2k + 1 shows their
    /// reconstructions, decoded from the posterior mean (noise 0) and drawn as sigmoid(logits). Tiles left over
    /// in a last, partial row are black. The samples grid shows <see cref="SampleCount"/> images decoded from
    /// z ~ N(0, I), drawn from the seeded generator.
    /// </remarks>
    /// <param name="weights">Parameters encoded by <see cref="ParameterCodec.Encode"/>.</param>
    /// <param name="reconstructionsPath">PNG file for the reconstructions grid.</param>
    /// <param name="samplesPath">PNG file for the samples grid.</param>
    /// <exception cref="InvalidDataException">The weights do not fit this model's architecture.</exception>
    public void WriteImages(ReadOnlySpan<byte> weights, string reconstructionsPath, string samplesPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(reconstructionsPath);
        ArgumentException.ThrowIfNullOrEmpty(samplesPath);
        LoadWeights(weights);

        using var noGrad = torch.no_grad();
        WriteGrid(reconstructionsPath, RenderReconstructions(), ReconstructionTileCount());
        WriteGrid(samplesPath, RenderSamples(), SampleCount);
    }

    public void Dispose() => model.Dispose();

    private void LoadWeights(ReadOnlySpan<byte> weights)
    {
        ParameterCodec.Decode(weights, model);
        model.eval();
    }

    /// <summary>Copies <paramref name="count"/> test images from <paramref name="first"/> on into a [count, D] tensor in [0, 1].</summary>
    private Tensor LoadImages(int first, int count) => EvaluationImages.Load(testSet, first, count, asImages: false);

    private int ReconstructionTileCount()
    {
        int originalCount = Math.Min(ReconstructionCount, testSet.Count);
        int pairRows = (originalCount + GridColumns - 1) / GridColumns;
        return 2 * pairRows * GridColumns;
    }

    /// <summary>Returns the tiles of the reconstructions grid, image after image, in [0, 1].</summary>
    private float[] RenderReconstructions()
    {
        using var scope = torch.NewDisposeScope();
        int originalCount = Math.Min(ReconstructionCount, testSet.Count);

        var images = LoadImages(0, originalCount);
        var (mean, _) = model.Encode(images);
        var reconstructions = torch.sigmoid(model.Decode(mean));

        return EvaluationImages.InterleaveReconstructions(
            images.data<float>().ToArray(), reconstructions.contiguous().data<float>().ToArray(), originalCount, testSet.PixelsPerImage).Tiles;
    }

    /// <summary>Returns <see cref="SampleCount"/> images decoded from z ~ N(0, I), image after image, in [0, 1].</summary>
    private float[] RenderSamples()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed);

        var z = torch.randn([SampleCount, model.Options.LatentSize], generator: generator);
        var logits = model.Decode(z);
        var samples = torch.sigmoid(logits);
        return samples.contiguous().data<float>().ToArray();
    }

    private void WriteGrid(string path, float[] tiles, int tileCount) => EvaluationImages.WriteGrid(path, tiles, tileCount, testSet.Rows, testSet.Columns);

    IReadOnlyList<double> IEvaluator.Evaluate(ReadOnlySpan<byte> weights)
    {
        var (negativeElbo, reconstruction, kl) = Evaluate(weights);
        return [negativeElbo, reconstruction, kl];
    }

    void IEvaluator.WriteImages(ReadOnlySpan<byte> weights, RunOutput output, int epoch) =>
        WriteImages(weights, output.ImagePath("reconstructions", epoch), output.ImagePath("samples", epoch));
}
