using DeepGen.Distributed.Explain;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Explain;

public sealed class ClassActivationMapTests
{
    public ClassActivationMapTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Compute_matches_manual_weighted_sum()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        const int batch = 2, channels = 3, height = 4, width = 5, classes = 4, classIndex = 2;
        var features = torch.rand(batch, channels, height, width);
        var weight = torch.randn(classes, channels);

        var maps = ClassActivationMap.Compute(features, weight, classIndex);

        Assert.Equal(new long[] { batch, height, width }, maps.shape);
        var f = features.data<float>().ToArray();
        var w = weight.data<float>().ToArray();
        var actual = maps.data<float>().ToArray();
        for (int b = 0; b < batch; b++)
        {
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    double expected = 0;
                    for (int k = 0; k < channels; k++)
                    {
                        expected += w[(classIndex * channels) + k] * f[(((b * channels) + k) * height + y) * width + x];
                    }

                    Assert.Equal(expected, actual[((b * height) + y) * width + x], 5);
                }
            }
        }
    }

    [Fact]
    public void Compute_peaks_in_active_quadrant()
    {
        using var scope = torch.NewDisposeScope();
        // Channel 0 is active only in the top-left 3×3 cells and channel 1 only in the bottom-right ones. Class 0
        // reads channel 0 alone, so its map must peak in the top-left quadrant of the image.
        var features = torch.zeros(1, 2, 7, 7);
        features[0, 0, torch.TensorIndex.Slice(0, 3), torch.TensorIndex.Slice(0, 3)] = torch.tensor(1f);
        features[0, 1, torch.TensorIndex.Slice(4, 7), torch.TensorIndex.Slice(4, 7)] = torch.tensor(1f);
        var weight = torch.tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);

        var map = ClassActivationMap.Compute(features, weight, 0);
        var upsampled = ClassActivationMap.Upsample(map, 28, 28)[0];

        var maximum = upsampled.max();
        var peaks = upsampled.eq(maximum).nonzero();
        Assert.True(peaks.shape[0] > 0, "the upsampled map has no maximum");
        Assert.True(peaks[.., 0].max().item<long>() < 14, "a peak lies below the top half");
        Assert.True(peaks[.., 1].max().item<long>() < 14, "a peak lies right of the left half");
    }

    [Fact]
    public void Upsample_centres_peak_on_its_cell()
    {
        using var scope = torch.NewDisposeScope();
        var map = torch.zeros(1, 7, 7);
        map[0, 2, 5] = torch.tensor(1f);

        var upsampled = ClassActivationMap.Upsample(map, 28, 28);

        Assert.Equal(new long[] { 1, 28, 28 }, upsampled.shape);
        var pixels = upsampled[0];
        long argmax = pixels.argmax().item<long>();
        long row = argmax / 28, column = argmax % 28;
        Assert.InRange(row, 8, 11);
        Assert.InRange(column, 20, 23);

        // Cell (2, 5) covers rows 8..11 and columns 20..23, so its centre is at (9.5, 21.5) and pixel pairs at
        // equal distance from it on either side must be equal.
        for (int offset = 0; offset < 4; offset++)
        {
            Assert.Equal(pixels[9 - offset, 21].item<float>(), pixels[10 + offset, 21].item<float>(), 6);
            Assert.Equal(pixels[9, 21 - offset].item<float>(), pixels[9, 22 + offset].item<float>(), 6);
        }
    }

    [Fact]
    public void Compute_rejects_mismatched_channels()
    {
        using var scope = torch.NewDisposeScope();
        var features = torch.rand(1, 3, 7, 7);
        var weight = torch.rand(10, 4);

        Assert.Throws<ArgumentException>(() => ClassActivationMap.Compute(features, weight, 0));
    }
}
