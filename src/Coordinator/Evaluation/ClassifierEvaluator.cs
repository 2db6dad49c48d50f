using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Coordinator.Evaluation;

/// <summary>Test-set accuracy and cross-entropy of the CNN classifier, in evaluation mode (BatchNorm running statistics).</summary>
public sealed class ClassifierEvaluator(ImageDataset testSet) : IEvaluator
{
    private const int BatchSize = 1000;

    private readonly ClassifierCnn _model = new(new ClassifierOptions());

    /// <summary>Returns [accuracy in [0, 1], mean cross-entropy in nats].</summary>
    public IReadOnlyList<double> Evaluate(ReadOnlySpan<byte> weights)
    {
        ParameterCodec.Decode(weights, _model);
        _model.eval();
        using var noGrad = torch.no_grad();
        long correct = 0;
        double crossEntropy = 0;
        for (var first = 0; first < testSet.Count; first += BatchSize)
        {
            using var scope = torch.NewDisposeScope();
            var count = Math.Min(BatchSize, testSet.Count - first);
            var images = EvaluationImages.Load(testSet, first, count, asImages: true);
            var labels = torch.tensor(testSet.Labels.AsSpan(first, count).ToArray().Select(l => (long)l).ToArray());
            var logits = _model.call(images);
            crossEntropy += ClassifierLoss.CrossEntropySum(logits, labels).item<float>();
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }

        return [correct / (double)testSet.Count, crossEntropy / testSet.Count];
    }

    /// <summary>Writes nothing: class activation maps are the classifier's images, and a separate reporter draws them.</summary>
    public void WriteImages(ReadOnlySpan<byte> weights, RunOutput output, int epoch)
    {
    }

    public void Dispose() => _model.Dispose();
}
