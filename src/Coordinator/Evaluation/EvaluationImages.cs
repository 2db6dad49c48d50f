using DeepGen.Distributed.Data;
using DeepGen.Distributed.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Coordinator.Evaluation;

/// <summary>Test-set tensors and PNG grids shared by the evaluators.</summary>
internal static class EvaluationImages
{
    /// <summary>Tiles per grid row.</summary>
    public const int GridColumns = 8;

    /// <summary>Copies <paramref name="count"/> images from <paramref name="first"/> on into [count, 1, rows, columns] (or [count, pixels] when <paramref name="asImages"/> is false), pixels in [0, 1].</summary>
    public static Tensor Load(ImageDataset data, int first, int count, bool asImages)
    {
        var indices = Enumerable.Range(first, count).ToArray();
        var pixels = new float[(long)count * data.PixelsPerImage];
        data.CopyNormalized(indices, pixels);
        return asImages ? torch.tensor(pixels, [count, 1, data.Rows, data.Columns]) : torch.tensor(pixels, [count, data.PixelsPerImage]);
    }

    /// <summary>
    /// Lays out originals and their reconstructions for a grid of <see cref="GridColumns"/>
    /// columns: grid row 2k shows images 8k to 8k + 7 and grid row 2k + 1 their reconstructions.
    /// </summary>
    public static (float[] Tiles, int TileCount) InterleaveReconstructions(float[] originals, float[] reconstructions, int count, int pixelsPerImage)
    {
        var pairRows = (count + GridColumns - 1) / GridColumns;
        var tileCount = 2 * pairRows * GridColumns;
        var tiles = new float[(long)tileCount * pixelsPerImage];
        for (var image = 0; image < count; image++)
        {
            var originalTile = (2 * (image / GridColumns) * GridColumns) + (image % GridColumns);
            originals.AsSpan(image * pixelsPerImage, pixelsPerImage).CopyTo(tiles.AsSpan(originalTile * pixelsPerImage));
            reconstructions.AsSpan(image * pixelsPerImage, pixelsPerImage).CopyTo(tiles.AsSpan((originalTile + GridColumns) * pixelsPerImage));
        }

        return (tiles, tileCount);
    }

    /// <summary>Writes <paramref name="tileCount"/> images (values in [0, 1]) as a grayscale PNG grid.</summary>
    public static void WriteGrid(string path, float[] tiles, int tileCount, int rows, int columns)
    {
        var (width, height, pixels) = ImageGrid.Compose(tiles, tileCount, rows, columns, GridColumns);
        PngWriter.WriteGrayscale(path, width, height, pixels);
    }
}
