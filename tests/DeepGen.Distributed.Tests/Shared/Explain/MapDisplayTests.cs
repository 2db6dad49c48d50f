using DeepGen.Distributed.Explain;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Explain;

public sealed class MapDisplayTests
{
    public MapDisplayTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Normalize_scales_each_map_to_unit_range()
    {
        using var scope = torch.NewDisposeScope();
        var maps = torch.stack([torch.arange(4f).reshape(2, 2), torch.arange(4f).reshape(2, 2) * -3 + 10]);

        var normalized = MapDisplay.Normalize(maps);

        Assert.Equal(0f, normalized[0].min().item<float>());
        Assert.Equal(1f, normalized[0].max().item<float>());
        Assert.Equal(0f, normalized[1].min().item<float>());
        Assert.Equal(1f, normalized[1].max().item<float>());
        Assert.Equal(1f / 3, normalized[0, 0, 1].item<float>(), 6);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(2.5f)]
    public void Normalize_turns_constant_map_into_zeros(float value)
    {
        using var scope = torch.NewDisposeScope();
        var maps = torch.full(2, 7, 7, value);

        var normalized = MapDisplay.Normalize(maps);

        Assert.False(normalized.isnan().any().item<bool>(), "the result contains NaN");
        Assert.Equal(0f, normalized.abs().max().item<float>());
    }

    [Fact]
    public void Normalize_turns_nan_map_into_zeros()
    {
        using var scope = torch.NewDisposeScope();
        var maps = torch.rand(1, 3, 3);
        maps[0, 1, 1] = torch.tensor(float.NaN);

        var normalized = MapDisplay.Normalize(maps);

        Assert.False(normalized.isnan().any().item<bool>(), "the result contains NaN");
        Assert.Equal(0f, normalized.abs().max().item<float>());
    }

    [Fact]
    public void Overlay_returns_three_bytes_per_pixel()
    {
        var grayscale = new float[5 * 4];
        var map = new float[5 * 4];

        var rgb = MapDisplay.Overlay(grayscale, map, height: 5, width: 4);

        Assert.Equal(5 * 4 * 3, rgb.Length);
    }

    [Fact]
    public void Overlay_draws_zero_map_in_blue()
    {
        var grayscale = Enumerable.Repeat(0.2f, 9).ToArray();
        var map = new float[9];

        var rgb = MapDisplay.Overlay(grayscale, map, height: 3, width: 3, alpha: 0.5);

        // Gray 0.2 blended half and half with pure blue (0, 0, 1): red and green 0.1, blue 0.6.
        for (int pixel = 0; pixel < 9; pixel++)
        {
            Assert.Equal(26, rgb[pixel * 3]);
            Assert.Equal(26, rgb[(pixel * 3) + 1]);
            Assert.Equal(153, rgb[(pixel * 3) + 2]);
        }
    }

    [Fact]
    public void Overlay_draws_full_map_in_red()
    {
        var rgb = MapDisplay.Overlay([0f], [1f], height: 1, width: 1, alpha: 1);

        Assert.Equal(new byte[] { 255, 0, 0 }, rgb);
    }

    [Fact]
    public void Overlay_rejects_wrong_map_length()
    {
        Assert.Throws<ArgumentException>(() => MapDisplay.Overlay(new float[4], new float[3], height: 2, width: 2));
    }
}
