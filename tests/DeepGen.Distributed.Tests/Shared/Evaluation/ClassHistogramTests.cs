using DeepGen.Distributed.Evaluation;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Evaluation;

public sealed class ClassHistogramTests
{
    [Fact]
    public void Count_uses_argmax_per_row()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        // Row argmaxes: 2, 0, 2, 3, 2.
        var logits = torch.tensor(
            new float[]
            {
                0.1f, 0.2f, 0.9f, 0.0f,
                5.0f, -1.0f, 2.0f, 3.0f,
                -3.0f, -2.0f, -1.0f, -4.0f,
                0.0f, 0.0f, 0.0f, 0.5f,
                1.0f, 2.0f, 7.0f, 2.0f,
            },
            [5, 4]);

        int[] expected = [1, 0, 3, 1];

        var counts = ClassHistogram.Count(logits, classes: 4);

        Assert.Equal(expected, counts);
    }

    [Fact]
    public void Count_of_no_rows_is_zeros()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var logits = torch.zeros([0, 3]);

        int[] expected = [0, 0, 0];

        var counts = ClassHistogram.Count(logits, classes: 3);

        Assert.Equal(expected, counts);
    }

    [Fact]
    public void Count_rejects_wrong_class_count()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var logits = torch.zeros([2, 3]);

        var error = Assert.Throws<ArgumentException>(() => ClassHistogram.Count(logits, classes: 10));

        Assert.Contains("[2, 3]", error.Message);
        Assert.Contains("[n, 10]", error.Message);
    }

    [Fact]
    public void Count_rejects_NaN_logits()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new[] { 1.0f, float.NaN }, [1, 2]);

        var error = Assert.Throws<ArgumentException>(() => ClassHistogram.Count(logits, classes: 2));

        Assert.Contains("NaN", error.Message);
    }

    [Fact]
    public void Uniform_histogram_entropy_is_ln_classes()
    {
        int[] counts = [7, 7, 7, 7, 7, 7, 7, 7, 7, 7];

        var entropy = ClassHistogram.Entropy(counts);

        Assert.Equal(Math.Log(10), entropy, tolerance: 1e-12);
    }

    [Fact]
    public void Single_class_entropy_is_zero()
    {
        int[] counts = [0, 0, 42, 0];

        var entropy = ClassHistogram.Entropy(counts);

        Assert.Equal(0.0, entropy);
    }

    [Fact]
    public void Uneven_histogram_entropy_matches_hand_value()
    {
        int[] counts = [1, 1, 2];
        // p = [0.25, 0.25, 0.5]: H = -2 · 0.25 ln 0.25 - 0.5 ln 0.5 = 1.5 ln 2 ≈ 1.0397 nats.
        var expected = (-2 * 0.25 * Math.Log(0.25)) - (0.5 * Math.Log(0.5));

        var entropy = ClassHistogram.Entropy(counts);

        Assert.Equal(expected, entropy, tolerance: 1e-12);
        Assert.Equal(1.5 * Math.Log(2), entropy, tolerance: 1e-12);
    }

    [Fact]
    public void Entropy_rejects_empty_histogram()
    {
        int[] counts = [0, 0, 0];

        var error = Assert.Throws<ArgumentException>(() => ClassHistogram.Entropy(counts));

        Assert.Contains("sum to 0", error.Message);
    }

    [Fact]
    public void Entropy_rejects_negative_count()
    {
        int[] counts = [3, -1];

        var error = Assert.Throws<ArgumentException>(() => ClassHistogram.Entropy(counts));

        Assert.Contains("counts[1] is -1", error.Message);
    }
}
