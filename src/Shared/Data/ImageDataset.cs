namespace DeepGen.Distributed.Data;

/// <summary>
/// Grayscale images of one size with one label byte each, held in memory as raw bytes.
/// The class never writes to its arrays, so threads may share an instance as long as no caller modifies them.
/// </summary>
public sealed class ImageDataset
{
    private static readonly float[] NormalizedByte = CreateNormalizationTable();

    /// <summary>Creates a dataset from raw pixels and labels.</summary>
    /// <param name="name">Display name, such as "fashion-mnist/train".</param>
    /// <param name="rows">Image height in pixels.</param>
    /// <param name="columns">Image width in pixels.</param>
    /// <param name="pixels">Images one after another, each row-major, <c>labels.Length × rows × columns</c> bytes.</param>
    /// <param name="labels">One label per image.</param>
    /// <exception cref="ArgumentException">The pixel count does not match the label count and image size.</exception>
    public ImageDataset(string name, int rows, int columns, byte[] pixels, byte[] labels)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);

        long expected = (long)labels.Length * rows * columns;
        if (pixels.Length != expected)
        {
            throw new ArgumentException(
                $"{labels.Length} images of {rows}x{columns} need {expected} pixel bytes, but pixels has {pixels.Length}.",
                nameof(pixels));
        }

        Name = name;
        Rows = rows;
        Columns = columns;
        Pixels = pixels;
        Labels = labels;
    }

    /// <summary>Display name, such as "fashion-mnist/train".</summary>
    public string Name { get; }

    /// <summary>Number of images, equal to the number of labels.</summary>
    public int Count => Labels.Length;

    /// <summary>Image height in pixels.</summary>
    public int Rows { get; }

    /// <summary>Image width in pixels.</summary>
    public int Columns { get; }

    /// <summary>Pixels in one image, <see cref="Rows"/> × <see cref="Columns"/>.</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>Raw pixel bytes (0 to 255), image after image, each row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>One label byte per image, in image order.</summary>
    public byte[] Labels { get; }

    /// <summary>
    /// Loads an IDX images file and the matching IDX labels file; each may be gzip-compressed or plain.
    /// Label values are not checked, but the two files must hold the same number of samples.
    /// </summary>
    /// <exception cref="DatasetFormatException">
    /// Either file cannot be read as IDX (see <see cref="IdxReader"/>), or the image and label counts differ.
    /// </exception>
    public static ImageDataset Load(string imagesPath, string labelsPath, string name)
    {
        var images = IdxReader.ReadImages(imagesPath);
        var labels = IdxReader.ReadLabels(labelsPath);

        if (images.Count != labels.Length)
        {
            throw new DatasetFormatException(imagesPath,
                $"image count {images.Count} does not match label count {labels.Length} in {labelsPath}; " +
                "pass an images file and a labels file from the same split (both train or both t10k)");
        }

        return new ImageDataset(name, images.Rows, images.Columns, images.Pixels, labels);
    }

    /// <summary>Copies <paramref name="count"/> consecutive samples starting at <paramref name="start"/> into a new dataset.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie inside the dataset.</exception>
    public ImageDataset Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (start > Count - count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"Samples {start} to {(long)start + count - 1} are outside dataset '{Name}' of {Count} samples.");
        }

        var pixels = Pixels.AsSpan(start * PixelsPerImage, count * PixelsPerImage).ToArray();
        var labels = Labels.AsSpan(start, count).ToArray();
        return new ImageDataset($"{Name}[{start}..{start + count})", Rows, Columns, pixels, labels);
    }

    /// <summary>
    /// Writes the images at <paramref name="indices"/> into <paramref name="destination"/> one after another in the
    /// given order, each pixel scaled from 0..255 to 0..1 (divided by 255).
    /// </summary>
    /// <param name="indices">Sample indices; repeats are allowed.</param>
    /// <param name="destination">Exactly <c>indices.Length × PixelsPerImage</c> floats, a [batch, rows × columns] block.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside 0..Count-1.</exception>
    public void CopyNormalized(ReadOnlySpan<int> indices, Span<float> destination)
    {
        int pixelsPerImage = PixelsPerImage;
        long expected = (long)indices.Length * pixelsPerImage;
        if (destination.Length != expected)
        {
            throw new ArgumentException(
                $"destination must hold {indices.Length} images of {pixelsPerImage} floats ({expected}), " +
                $"but its length is {destination.Length}.", nameof(destination));
        }

        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index,
                    $"Index at position {i} is outside dataset '{Name}' of {Count} samples.");
            }

            var source = Pixels.AsSpan(index * pixelsPerImage, pixelsPerImage);
            var target = destination.Slice(i * pixelsPerImage, pixelsPerImage);
            for (int p = 0; p < source.Length; p++)
            {
                target[p] = NormalizedByte[source[p]];
            }
        }
    }

    private static float[] CreateNormalizationTable()
    {
        var table = new float[256];
        for (int value = 0; value < table.Length; value++)
        {
            table[value] = value / 255f;
        }

        return table;
    }

    /// <summary>Returns the mean pixel value over every image, scaled to [0, 1] like <see cref="CopyNormalized"/>.</summary>
    public double MeanPixelValue()
    {
        long sum = 0;
        foreach (var pixel in Pixels)
        {
            sum += pixel;
        }

        return Pixels.Length == 0 ? 0 : sum / (255.0 * Pixels.Length);
    }
}
