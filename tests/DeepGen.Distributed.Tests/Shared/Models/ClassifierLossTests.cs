using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class ClassifierLossTests
{
    private static readonly int[] Int32Labels = [1, 2];

    public ClassifierLossTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Cross_entropy_sum_matches_hand_computed_value()
    {
        using var scope = torch.NewDisposeScope();
        var ln3 = (float)Math.Log(3);
        var logits = torch.tensor(new float[] { 0, ln3, ln3, 0 }, 2, 2);
        var labels = torch.tensor(new long[] { 1, 1 });

        var loss = ClassifierLoss.CrossEntropySum(logits, labels);

        // softmax([0, ln 3]) = [1/4, 3/4] and softmax([ln 3, 0]) = [3/4, 1/4], both with label 1.
        // −log(3/4) − log(1/4) = 0.2876821 + 1.3862944 = 1.6739764.
        Assert.Equal(1.6739764, loss.item<float>(), 5);
    }

    [Fact]
    public void Single_row_matches_hand_computed_value()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 0, (float)Math.Log(3) }, 1, 2);
        var labels = torch.tensor(new long[] { 1 });

        var loss = ClassifierLoss.CrossEntropySum(logits, labels);

        // −log(3/4).
        Assert.Equal(-Math.Log(0.75), loss.item<float>(), 6);
    }

    [Fact]
    public void Batch_mean_equals_one_hot_cross_entropy()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        var logits = torch.randn(6, 10) * 3;
        var labels = torch.tensor(new long[] { 0, 3, 9, 3, 5, 1 });

        var sum = ClassifierLoss.CrossEntropySum(logits, labels);
        var oneHot = torch.nn.functional.one_hot(labels, 10).to(torch.float32);
        var expected = Losses.CrossEntropy(logits.softmax(1), oneHot);

        Assert.Equal(expected.item<float>(), sum.item<float>() / 6, 5);
    }

    [Fact]
    public void Large_logits_stay_finite()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 1000, -1000 }, 1, 2);
        var labels = torch.tensor(new long[] { 1 });

        var loss = ClassifierLoss.CrossEntropySum(logits, labels);

        Assert.Equal(2000, loss.item<float>(), 2);
    }

    [Fact]
    public void Sum_rejects_labels_of_wrong_length()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.zeros(3, 10);
        var labels = torch.tensor(new long[] { 1, 2 });

        var error = Assert.Throws<ArgumentException>(() => ClassifierLoss.CrossEntropySum(logits, labels));

        Assert.Equal("labels", error.ParamName);
        Assert.Contains("[2]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[3]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sum_rejects_int32_labels()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.zeros(2, 10);
        var labels = torch.tensor(Int32Labels);

        var error = Assert.Throws<ArgumentException>(() => ClassifierLoss.CrossEntropySum(logits, labels));

        Assert.Equal("labels", error.ParamName);
        Assert.Contains("Int64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sum_rejects_one_dimensional_logits()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.zeros(10);
        var labels = torch.tensor(new long[] { 1 });

        var error = Assert.Throws<ArgumentException>(() => ClassifierLoss.CrossEntropySum(logits, labels));

        Assert.Equal("logits", error.ParamName);
    }
}
