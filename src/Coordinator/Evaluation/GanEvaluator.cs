using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Evaluation;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Coordinator.Evaluation;

/// <summary>
/// Measures a GAN snapshot against the test set with three metrics. The first is the Fréchet
/// distance between test and generated images in the features of a Fashion-MNIST classifier (its
/// global-average-pooled last convolution). The second is the entropy of that classifier's class
/// histogram of generated images, which is low for a collapsed generator. The third is the
/// discriminator's accuracy on held-out real versus generated images.
/// </summary>
/// <remarks>
/// This Fréchet distance is not the Inception FID: values are comparable only with others computed
/// with the same classifier checkpoint. Without a classifier the first two metrics are NaN.
/// </remarks>
public sealed class GanEvaluator : IEvaluator
{
    private const int BatchSize = 500;
    private const int SampleCount = 64;

    private readonly ImageDataset _testSet;
    private readonly GanNetworks _networks;
    private readonly ClassifierCnn? _classifier;
    private readonly Tensor? _testMean;
    private readonly Tensor? _testCovariance;
    private readonly int _seed;

    /// <param name="classifierWeights">State of a trained <see cref="ClassifierCnn"/>, or null.</param>
    public GanEvaluator(ImageDataset testSet, string architecture, DcganOptions options, byte[]? classifierWeights, int seed)
    {
        _testSet = testSet;
        _seed = seed;
        _networks = DefaultGenerator.Unseeded(() => new GanNetworks(architecture, options));
        if (classifierWeights is not null)
        {
            _classifier = DefaultGenerator.Unseeded(() => new ClassifierCnn(new ClassifierOptions()));
            ParameterCodec.Decode(classifierWeights, _classifier);
            _classifier.eval();
            using var noGrad = torch.no_grad();
            using var features = Features(testSet);
            var (mean, covariance) = FrechetDistance.Statistics(features);
            _testMean = mean.DetachFromDisposeScope();
            _testCovariance = covariance.DetachFromDisposeScope();
        }
    }

    /// <summary>Returns [Fréchet distance in classifier features, class-histogram entropy in nats, discriminator accuracy].</summary>
    public IReadOnlyList<double> Evaluate(ReadOnlySpan<byte> weights)
    {
        Load(weights);
        using var noGrad = torch.no_grad();
        using var generator = new Generator((ulong)_seed);
        var generatedFeatures = new List<Tensor>();
        var counts = new int[10];
        long correct = 0;
        try
        {
            for (var first = 0; first < _testSet.Count; first += BatchSize)
            {
                using var scope = torch.NewDisposeScope();
                var count = Math.Min(BatchSize, _testSet.Count - first);
                var real = EvaluationImages.Load(_testSet, first, count, asImages: true).Times(2).PlusInPlace(-1);
                var fake = _networks.Generator.call(torch.randn([count, _networks.Options.LatentSize], generator: generator));
                correct += _networks.Discriminator.call(real).gt(0).sum().item<long>();
                correct += _networks.Discriminator.call(fake).le(0).sum().item<long>();
                if (_classifier is not null)
                {
                    var classifierInput = (fake + 1) / 2;
                    generatedFeatures.Add(_classifier.Embed(classifierInput).DetachFromDisposeScope());
                    var histogram = ClassHistogram.Count(_classifier.call(classifierInput), 10);
                    for (var c = 0; c < 10; c++)
                    {
                        counts[c] += histogram[c];
                    }
                }
            }

            var accuracy = correct / (2.0 * _testSet.Count);
            if (_classifier is null)
            {
                return [double.NaN, double.NaN, accuracy];
            }

            using var all = torch.cat(generatedFeatures, 0);
            var (mean, covariance) = FrechetDistance.Statistics(all);
            using (mean)
            using (covariance)
            {
                return [FrechetDistance.FromStatistics(_testMean!, _testCovariance!, mean, covariance), ClassHistogram.Entropy(counts), accuracy];
            }
        }
        finally
        {
            foreach (var features in generatedFeatures)
            {
                features.Dispose();
            }
        }
    }

    /// <summary>
    /// Returns the Fréchet distance between <paramref name="images"/> (real images, pixels in
    /// [0, 1]) and the test set, in the classifier's features: the floor that a perfect generator
    /// would approach, for example with 10,000 training images.
    /// </summary>
    /// <exception cref="InvalidOperationException">No classifier was given.</exception>
    public double FrechetDistanceTo(ImageDataset images)
    {
        if (_classifier is null)
        {
            throw new InvalidOperationException("A Fréchet distance needs the classifier checkpoint; pass --fid-classifier.");
        }

        using var noGrad = torch.no_grad();
        using var features = Features(images);
        var (mean, covariance) = FrechetDistance.Statistics(features);
        using (mean)
        using (covariance)
        {
            return FrechetDistance.FromStatistics(_testMean!, _testCovariance!, mean, covariance);
        }
    }

    /// <summary>Writes 64 generated images, drawn from a fixed seed so that epochs compare.</summary>
    public void WriteImages(ReadOnlySpan<byte> weights, RunOutput output, int epoch)
    {
        Load(weights);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)_seed + 1);
        var samples = (_networks.Generator.call(torch.randn([SampleCount, _networks.Options.LatentSize], generator: generator)) + 1) / 2;
        EvaluationImages.WriteGrid(output.ImagePath("samples", epoch), samples.contiguous().data<float>().ToArray(), SampleCount, _testSet.Rows, _testSet.Columns);
    }

    public void Dispose()
    {
        _networks.Dispose();
        _classifier?.Dispose();
        _testMean?.Dispose();
        _testCovariance?.Dispose();
    }

    private void Load(ReadOnlySpan<byte> weights)
    {
        ParameterCodec.Decode(weights, _networks);
        _networks.eval();
    }

    private Tensor Features(ImageDataset data)
    {
        var parts = new List<Tensor>();
        for (var first = 0; first < data.Count; first += BatchSize)
        {
            using var scope = torch.NewDisposeScope();
            var images = EvaluationImages.Load(data, first, Math.Min(BatchSize, data.Count - first), asImages: true);
            parts.Add(_classifier!.Embed(images).DetachFromDisposeScope());
        }

        var all = torch.cat(parts, 0);
        foreach (var part in parts)
        {
            part.Dispose();
        }

        return all;
    }
}
