using DeepGen.Distributed.Data;

namespace DeepGen.Distributed.Tests.Data;

public sealed class ImageDatasetTests : IDisposable
{
    private readonly TemporaryDirectory folder = new();

    public void Dispose() => folder.Dispose();

    // Three 2x2 images whose pixels are 0..11, labelled 7, 8, 9.
    private static ImageDataset Sample() =>
        new("sample", 2, 2, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [7, 8, 9]);

    [Fact]
    public void Load_reads_matching_files()
    {
        string imagesPath = folder.File("images.gz");
        string labelsPath = folder.File("labels.gz");
        IdxReader.WriteImages(imagesPath, new IdxImages(2, 1, 3, [1, 2, 3, 4, 5, 6]), gzip: true);
        IdxReader.WriteLabels(labelsPath, [4, 200], gzip: true);

        var dataset = ImageDataset.Load(imagesPath, labelsPath, "pair");

        Assert.Equal("pair", dataset.Name);
        Assert.Equal(2, dataset.Count);
        Assert.Equal(1, dataset.Rows);
        Assert.Equal(3, dataset.Columns);
        Assert.Equal(3, dataset.PixelsPerImage);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, dataset.Pixels);
        Assert.Equal(new byte[] { 4, 200 }, dataset.Labels);
    }

    [Fact]
    public void Count_mismatch_names_both_files_and_counts()
    {
        string imagesPath = folder.File("train-images-idx3-ubyte.gz");
        string labelsPath = folder.File("t10k-labels-idx1-ubyte.gz");
        IdxReader.WriteImages(imagesPath, new IdxImages(2, 1, 3, [1, 2, 3, 4, 5, 6]), gzip: true);
        IdxReader.WriteLabels(labelsPath, [4, 5, 6], gzip: true);

        var error = Assert.Throws<DatasetFormatException>(() => ImageDataset.Load(imagesPath, labelsPath, "pair"));

        Assert.Contains(imagesPath, error.Message, StringComparison.Ordinal);
        Assert.Contains(labelsPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("image count 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("label count 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_rejects_pixel_count_mismatch()
    {
        Assert.Throws<ArgumentException>(() => new ImageDataset("bad", 2, 2, new byte[7], new byte[2]));
    }

    [Fact]
    public void Slice_copies_the_range()
    {
        var slice = Sample().Slice(1, 2);

        Assert.Equal(2, slice.Count);
        Assert.Equal(new byte[] { 4, 5, 6, 7, 8, 9, 10, 11 }, slice.Pixels);
        Assert.Equal(new byte[] { 8, 9 }, slice.Labels);
        Assert.Equal("sample[1..3)", slice.Name);
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(0, 0)]
    [InlineData(2, 2)]
    [InlineData(3, 1)]
    public void Slice_outside_dataset_is_rejected(int start, int count)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Sample().Slice(start, count));
    }

    [Fact]
    public void CopyNormalized_writes_images_in_given_order()
    {
        var destination = new float[3 * 4];

        Sample().CopyNormalized([2, 0, 2], destination);

        float[] expected = [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11];
        Assert.Equal(expected.Select(value => value / 255f), destination);
    }

    [Fact]
    public void CopyNormalized_maps_255_to_one()
    {
        var dataset = new ImageDataset("extremes", 1, 2, [0, 255], [0]);
        var destination = new float[2];

        dataset.CopyNormalized([0], destination);

        Assert.Equal(0f, destination[0]);
        Assert.Equal(1f, destination[1]);
    }

    [Fact]
    public void CopyNormalized_rejects_wrong_destination_length()
    {
        var error = Assert.Throws<ArgumentException>(() => Sample().CopyNormalized([0, 1], new float[7]));

        Assert.Equal("destination", error.ParamName);
    }

    [Fact]
    public void CopyNormalized_rejects_index_outside_dataset()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Sample().CopyNormalized([3], new float[4]));
    }

    [Fact]
    public void Mean_pixel_value_scales_to_unit_range()
    {
        var data = new ImageDataset("tiny", 1, 2, [0, 255, 51, 0], [0, 1]);

        Assert.Equal((0 + 255 + 51 + 0) / (255.0 * 4), data.MeanPixelValue(), 12);
    }
}
