using DeepGen.Distributed.Imaging;

namespace DeepGen.Distributed.Tests.Imaging;

public sealed class ImageGridTests
{
    [Fact]
    public void Grid_size_includes_padding()
    {
        var images = new float[5 * 3 * 4];

        var (width, height, pixels) = ImageGrid.Compose(images, count: 5, rows: 3, columns: 4, gridColumns: 2, padding: 2);

        Assert.Equal((2 * 4) + (3 * 2), width);
        Assert.Equal((3 * 3) + (4 * 2), height);
        Assert.Equal(width * height, pixels.Length);
    }

    [Fact]
    public void Known_pixel_lands_in_its_tile()
    {
        const int rows = 3;
        const int columns = 4;
        var images = new float[4 * rows * columns];
        // Image 3 sits in grid row 1, grid column 1. Its pixel at y = 2, x = 1 is the only white one.
        images[(3 * rows * columns) + (2 * columns) + 1] = 1f;

        var (width, _, pixels) = ImageGrid.Compose(images, count: 4, rows, columns, gridColumns: 2, padding: 1);

        int x = 1 + (1 * (columns + 1)) + 1;
        int y = 1 + (1 * (rows + 1)) + 2;
        Assert.Equal(255, pixels[(y * width) + x]);
        Assert.Equal(1, pixels.Count(value => value != 0));
    }

    [Fact]
    public void Values_are_clamped_and_nan_is_black()
    {
        float[] images = [-0.5f, 0.5f, 2f, float.NaN];

        var (_, _, pixels) = ImageGrid.Compose(images, count: 1, rows: 1, columns: 4, gridColumns: 1, padding: 0);

        Assert.Equal(0, pixels[0]);
        Assert.Equal(128, pixels[1]);
        Assert.Equal(255, pixels[2]);
        Assert.Equal(0, pixels[3]);
    }

    [Fact]
    public void Too_few_values_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ImageGrid.Compose(new float[10], count: 2, rows: 2, columns: 3, gridColumns: 2));
    }
}
