using DeepGen.Distributed.Imaging;

namespace DeepGen.Distributed.Tests.Imaging;

public sealed class TextStripTests
{
    [Fact]
    public void Strip_keeps_image_and_draws_glyph_pixels()
    {
        var image = Enumerable.Repeat((byte)7, 4 * 20 * 3).ToArray();

        var (height, rgb) = TextStrip.AppendBelow(image, 4, 20, ["T"], scale: 1);

        Assert.Equal(4 + 7 + 2, height);
        Assert.Equal(image, rgb.Take(image.Length).ToArray());

        // 'T' at scale 1: first row is three white pixels at columns 1..3 of the text row 5 (4 + 1).
        Assert.Equal(255, Pixel(rgb, 20, 5, 1));
        Assert.Equal(255, Pixel(rgb, 20, 5, 3));

        // The stem: column 2 only on the second row.
        Assert.Equal(255, Pixel(rgb, 20, 6, 2));
        Assert.Equal(0, Pixel(rgb, 20, 6, 1));
    }

    [Fact]
    public void Unknown_characters_and_overflow_draw_nothing()
    {
        var (_, rgb) = TextStrip.AppendBelow(new byte[2 * 8 * 3], 2, 8, ["~~~~~~~~"], scale: 1);

        Assert.All(rgb, value => Assert.Equal(0, value));
    }

    private static int Pixel(byte[] rgb, int width, int y, int x) => rgb[3 * ((y * width) + x)];
}
