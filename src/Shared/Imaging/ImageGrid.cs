namespace DeepGen.Distributed.Imaging;

/// <summary>Tiles equally sized grayscale images into one grid image, for sample and reconstruction previews.</summary>
public static class ImageGrid
{
    /// <summary>
    /// Tiles the first <paramref name="count"/> images into a grid of <paramref name="gridColumns"/> columns,
    /// filled row by row, with <paramref name="padding"/> black pixels around and between the tiles.
    /// </summary>
    /// <param name="images">
    /// At least count × rows × columns values, image after image, each row-major, 0 black to 1 white.
    /// Values outside [0, 1] are clamped and NaN becomes 0.
    /// </param>
    /// <param name="count">Number of images to tile, at least 1.</param>
    /// <param name="rows">Image height in pixels.</param>
    /// <param name="columns">Image width in pixels.</param>
    /// <param name="gridColumns">Tiles per grid row, at least 1; the grid has ceil(count / gridColumns) rows.</param>
    /// <param name="padding">Border width in pixels, 0 or more.</param>
    /// <returns>The grid size and its row-major 8-bit pixels, ready for <see cref="PngWriter.WriteGrayscale"/>.</returns>
    /// <exception cref="ArgumentException">A size is out of range or <paramref name="images"/> is too short.</exception>
    public static (int Width, int Height, byte[] Pixels) Compose(
        ReadOnlySpan<float> images, int count, int rows, int columns, int gridColumns, int padding = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridColumns, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);

        int pixelsPerImage = rows * columns;
        long needed = (long)count * pixelsPerImage;
        if (images.Length < needed)
        {
            throw new ArgumentException(
                $"{count} images of {rows}x{columns} need {needed} values, but images has {images.Length}.",
                nameof(images));
        }

        int gridRows = (count + gridColumns - 1) / gridColumns;
        int width = (gridColumns * (columns + padding)) + padding;
        int height = (gridRows * (rows + padding)) + padding;
        var pixels = new byte[(long)width * height];

        for (int image = 0; image < count; image++)
        {
            int left = padding + ((image % gridColumns) * (columns + padding));
            int top = padding + ((image / gridColumns) * (rows + padding));
            var source = images.Slice(image * pixelsPerImage, pixelsPerImage);

            for (int y = 0; y < rows; y++)
            {
                int targetRow = ((top + y) * width) + left;
                for (int x = 0; x < columns; x++)
                {
                    pixels[targetRow + x] = ToByte(source[(y * columns) + x]);
                }
            }
        }

        return (width, height, pixels);
    }

    private static byte ToByte(float value)
    {
        if (float.IsNaN(value))
        {
            return 0;
        }

        return (byte)MathF.Round(Math.Clamp(value, 0f, 1f) * 255f);
    }
}
