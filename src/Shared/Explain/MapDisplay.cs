using static TorchSharp.torch;

namespace DeepGen.Distributed.Explain;

/// <summary>Scales activation maps for display and draws them as a colour overlay on grayscale images.</summary>
public static class MapDisplay
{
    // Colour ramp stops at 0, 0.25, 0.5, 0.75 and 1: blue, cyan, green, yellow, red, in RGB from 0 to 1. Values in
    // between are interpolated linearly, which gives a "jet"-like ramp from low (blue) to high (red).
    private static readonly float[,] RampStops =
    {
        { 0f, 0f, 1f },
        { 0f, 1f, 1f },
        { 0f, 1f, 0f },
        { 1f, 1f, 0f },
        { 1f, 0f, 0f },
    };

    /// <summary>Scales each map to [0, 1] by (m − min) / (max − min), with min and max taken per image.</summary>
    /// <param name="maps">Maps, shape [B, H, W].</param>
    /// <returns>Scaled maps, shape [B, H, W]. A map whose max − min is 0 or not finite (a constant map, or one
    /// containing NaN or an infinity) becomes all zeros, so the result never contains NaN.</returns>
    /// <exception cref="ArgumentException"><paramref name="maps"/> is not [B, H, W].</exception>
    public static Tensor Normalize(Tensor maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ClassActivationMap.RequireRank(maps, 3, "[B, H, W]", nameof(maps));

        using var scope = NewDisposeScope();
        var minimum = maps.amin([1L, 2L], keepdim: true);
        var maximum = maps.amax([1L, 2L], keepdim: true);
        var range = maximum - minimum;
        var valid = range.isfinite().logical_and(range.gt(0));

        // Dividing by 1 where the range is invalid keeps those entries finite before where() replaces them.
        var safeRange = where(valid, range, ones_like(range));
        var scaled = (maps - minimum) / safeRange;
        var result = where(valid, scaled, zeros_like(scaled));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Draws <paramref name="map"/> with the colour ramp over <paramref name="grayscale"/> and returns RGB pixels,
    /// each channel (1 − alpha)·gray + alpha·colour.
    /// </summary>
    /// <remarks>The ramp runs from blue (0) through cyan (0.25), green (0.5) and yellow (0.75) to red (1).</remarks>
    /// <param name="grayscale">Image pixels in [0, 1], row-major, height × width values. Values outside are clamped.</param>
    /// <param name="map">Map values in [0, 1] at image resolution (for example <see cref="Normalize"/> of an upsampled
    /// map), row-major, height × width values. Values outside are clamped, and NaN counts as 0.</param>
    /// <param name="alpha">Weight of the colour, in [0, 1]: 0 shows only the image, 1 only the map.</param>
    /// <returns>height × width × 3 bytes, RGB per pixel in row-major order, as <c>PngWriter.WriteRgb</c> takes.</returns>
    /// <exception cref="ArgumentException">A span length differs from height × width.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or <paramref name="alpha"/> is outside [0, 1].</exception>
    public static byte[] Overlay(ReadOnlySpan<float> grayscale, ReadOnlySpan<float> map, int height, int width, double alpha = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (!(alpha >= 0 && alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in [0, 1].");
        }

        long pixels = (long)height * width;
        RequireLength(grayscale.Length, pixels, height, width, nameof(grayscale));
        RequireLength(map.Length, pixels, height, width, nameof(map));

        var rgb = new byte[pixels * 3];
        Span<float> colour = stackalloc float[3];
        for (int i = 0; i < pixels; i++)
        {
            float gray = Clamp01(grayscale[i]);
            RampColour(Clamp01(map[i]), colour);
            for (int channel = 0; channel < 3; channel++)
            {
                double blended = ((1 - alpha) * gray) + (alpha * colour[channel]);
                rgb[(i * 3) + channel] = (byte)Math.Round(blended * 255, MidpointRounding.AwayFromZero);
            }
        }

        return rgb;
    }

    private static void RampColour(float value, Span<float> colour)
    {
        int segments = RampStops.GetLength(0) - 1;
        float position = value * segments;
        int lower = Math.Min((int)position, segments - 1);
        float fraction = position - lower;
        for (int channel = 0; channel < 3; channel++)
        {
            float start = RampStops[lower, channel];
            float end = RampStops[lower + 1, channel];
            colour[channel] = start + ((end - start) * fraction);
        }
    }

    // NaN fails both comparisons and falls through to 0.
    private static float Clamp01(float value)
    {
        if (value >= 1)
        {
            return 1;
        }

        return value > 0 ? value : 0;
    }

    private static void RequireLength(int length, long expected, int height, int width, string name)
    {
        if (length != expected)
        {
            throw new ArgumentException(
                $"{name} has {length} values, but a {height}×{width} image needs {expected}.", name);
        }
    }
}
