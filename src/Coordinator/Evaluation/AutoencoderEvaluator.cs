using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Coordinator.Evaluation;

/// <summary>
/// Test-set mean squared error of the autoencoder, per pixel, next to the baseline of predicting
/// the training set's mean image for every test image.
/// </summary>
public sealed class AutoencoderEvaluator : IEvaluator
{
    private const int BatchSize = 1000;
    private const int ReconstructionCount = 32;

    private readonly ImageDataset _testSet;
    private readonly Autoencoder _model;
    private readonly double _meanImageMse;

    public AutoencoderEvaluator(ImageDataset testSet, ImageDataset trainSet, AutoencoderOptions options)
    {
        _testSet = testSet;
        _model = DefaultGenerator.Unseeded(() => new Autoencoder(options));
        _meanImageMse = MeanImageMse(testSet, trainSet);
    }

    /// <summary>Returns [test MSE, mean-image MSE], both per pixel.</summary>
    public IReadOnlyList<double> Evaluate(ReadOnlySpan<byte> weights)
    {
        Load(weights);
        using var noGrad = torch.no_grad();
        double squaredErrorSum = 0;
        for (var first = 0; first < _testSet.Count; first += BatchSize)
        {
            using var scope = torch.NewDisposeScope();
            var images = EvaluationImages.Load(_testSet, first, Math.Min(BatchSize, _testSet.Count - first), asImages: false);
            var (reconstruction, _) = _model.call(images);
            squaredErrorSum += (reconstruction - images).pow(2).sum().item<float>();
        }

        return [squaredErrorSum / ((double)_testSet.Count * _testSet.PixelsPerImage), _meanImageMse];
    }

    /// <summary>Writes the first 32 test images with their reconstructions in the row below each row of originals.</summary>
    public void WriteImages(ReadOnlySpan<byte> weights, RunOutput output, int epoch)
    {
        Load(weights);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var count = Math.Min(ReconstructionCount, _testSet.Count);
        var images = EvaluationImages.Load(_testSet, 0, count, asImages: false);
        var (reconstruction, _) = _model.call(images);
        var (tiles, tileCount) = EvaluationImages.InterleaveReconstructions(
            images.data<float>().ToArray(), reconstruction.contiguous().data<float>().ToArray(), count, _testSet.PixelsPerImage);
        EvaluationImages.WriteGrid(output.ImagePath("reconstructions", epoch), tiles, tileCount, _testSet.Rows, _testSet.Columns);
    }

    public void Dispose() => _model.Dispose();

    private void Load(ReadOnlySpan<byte> weights)
    {
        ParameterCodec.Decode(weights, _model);
        _model.eval();
    }

    private static double MeanImageMse(ImageDataset testSet, ImageDataset trainSet)
    {
        var pixels = trainSet.PixelsPerImage;
        var mean = new double[pixels];
        for (var i = 0; i < trainSet.Pixels.Length; i++)
        {
            mean[i % pixels] += trainSet.Pixels[i] / 255.0;
        }

        for (var p = 0; p < pixels; p++)
        {
            mean[p] /= trainSet.Count;
        }

        double sum = 0;
        for (var i = 0; i < testSet.Pixels.Length; i++)
        {
            var difference = (testSet.Pixels[i] / 255.0) - mean[i % pixels];
            sum += difference * difference;
        }

        return sum / testSet.Pixels.Length;
    }
}
