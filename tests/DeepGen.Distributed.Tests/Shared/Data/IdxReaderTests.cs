using System.Buffers.Binary;
using System.IO.Compression;
using DeepGen.Distributed.Data;

namespace DeepGen.Distributed.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TemporaryDirectory folder = new();

    public void Dispose() => folder.Dispose();

    private static IdxImages SampleImages()
    {
        var pixels = new byte[3 * 2 * 4];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(i * 11);
        }

        return new IdxImages(3, 2, 4, pixels);
    }

    private static byte[] ImagesHeader(int magic, int count, int rows, int columns)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, magic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), columns);
        return header;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Images_round_trip(bool gzip)
    {
        string path = folder.File("images.idx");
        var written = SampleImages();

        IdxReader.WriteImages(path, written, gzip);
        var read = IdxReader.ReadImages(path);

        Assert.Equal(3, read.Count);
        Assert.Equal(2, read.Rows);
        Assert.Equal(4, read.Columns);
        Assert.Equal(written.Pixels, read.Pixels);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Labels_round_trip(bool gzip)
    {
        string path = folder.File("labels.idx");
        byte[] written = [0, 9, 255, 3, 7];

        IdxReader.WriteLabels(path, written, gzip);

        Assert.Equal(written, IdxReader.ReadLabels(path));
    }

    [Fact]
    public void Gzip_is_detected_by_content_not_extension()
    {
        string gzipWithoutExtension = folder.File("train-images-idx3-ubyte");
        string plainWithGzExtension = folder.File("plain.gz");
        IdxReader.WriteImages(gzipWithoutExtension, SampleImages(), gzip: true);
        IdxReader.WriteImages(plainWithGzExtension, SampleImages(), gzip: false);

        Assert.Equal(0x1f, File.ReadAllBytes(gzipWithoutExtension)[0]);
        Assert.Equal(SampleImages().Pixels, IdxReader.ReadImages(gzipWithoutExtension).Pixels);
        Assert.Equal(SampleImages().Pixels, IdxReader.ReadImages(plainWithGzExtension).Pixels);
    }

    [Fact]
    public void Missing_file_is_rejected_with_install_hint()
    {
        string path = folder.File("train-images-idx3-ubyte.gz");

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Equal(path, error.Path);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install dataset-fashion-mnist", error.Message, StringComparison.Ordinal);
        Assert.Contains("--data DIR", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_file_given_as_images_is_rejected()
    {
        string path = folder.File("train-labels-idx1-ubyte.gz");
        IdxReader.WriteLabels(path, [1, 2, 3], gzip: true);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Equal(path, error.Path);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("magic number 0x00000801 is an IDX label file", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected 0x00000803 (images)", error.Message, StringComparison.Ordinal);
        Assert.Contains("pass the images file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Images_file_given_as_labels_is_rejected()
    {
        string path = folder.File("train-images-idx3-ubyte");
        IdxReader.WriteImages(path, SampleImages(), gzip: false);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadLabels(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("magic number 0x00000803 is an IDX image file", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected 0x00000801 (labels)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_idx_file_is_rejected()
    {
        string path = folder.File("notes.txt");
        File.WriteAllText(path, "this is plain text, long enough for a header");

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("magic number 0x74686973 is not an IDX file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_header_is_rejected()
    {
        string path = folder.File("short.idx");
        File.WriteAllBytes(path, ImagesHeader(IdxReader.ImagesMagic, 3, 2, 4)[..10]);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated header", error.Message, StringComparison.Ordinal);
        Assert.Contains("16 bytes, found 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_labels_file_is_rejected_as_truncated()
    {
        string path = folder.File("empty.idx");
        File.WriteAllBytes(path, []);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadLabels(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated header", error.Message, StringComparison.Ordinal);
        Assert.Contains("8 bytes, found 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_data_is_rejected_with_byte_counts()
    {
        string path = folder.File("cut.idx");
        byte[] header = ImagesHeader(IdxReader.ImagesMagic, 3, 2, 4);
        File.WriteAllBytes(path, [.. header, .. new byte[20]]);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated data", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 images of 2x4", error.Message, StringComparison.Ordinal);
        Assert.Contains("24 bytes are expected", error.Message, StringComparison.Ordinal);
        Assert.Contains("found 20", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_gzip_data_is_rejected_with_byte_counts()
    {
        string path = folder.File("cut.gz");
        byte[] header = ImagesHeader(IdxReader.ImagesMagic, 3, 2, 4);
        File.WriteAllBytes(path, Gzip([.. header, .. new byte[20]]));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("found 20 (after gzip decompression)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trailing_bytes_are_rejected()
    {
        string path = folder.File("long.idx");
        byte[] header = ImagesHeader(IdxReader.ImagesMagic, 3, 2, 4);
        File.WriteAllBytes(path, [.. header, .. new byte[24 + 5]]);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("5 bytes follow the 3 images of 2x4", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 28, 28)]
    [InlineData(-5, 28, 28)]
    [InlineData(10, 0, 28)]
    [InlineData(10, 28, -1)]
    [InlineData(10, 100_000, 28)]
    public void Invalid_dimensions_are_rejected(int count, int rows, int columns)
    {
        string path = folder.File("dims.idx");
        File.WriteAllBytes(path, ImagesHeader(IdxReader.ImagesMagic, count, rows, columns));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"invalid header: {count} images of {rows}x{columns}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_image_data_is_rejected()
    {
        string path = folder.File("huge.idx");
        File.WriteAllBytes(path, ImagesHeader(IdxReader.ImagesMagic, 1_000_000, 1000, 1000));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains("more than the largest array", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_label_count_is_rejected()
    {
        string path = folder.File("labels.idx");
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), -1);
        File.WriteAllBytes(path, header);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadLabels(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("label count -1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gzip_magic_followed_by_garbage_is_rejected()
    {
        string path = folder.File("garbage.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42]);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt gzip stream", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gzip_with_damaged_body_is_rejected()
    {
        string path = folder.File("damaged.gz");
        var pixels = new byte[100 * 28 * 28];
        new Random(1).NextBytes(pixels);
        IdxReader.WriteImages(path, new IdxImages(100, 28, 28, pixels), gzip: true);
        byte[] compressed = File.ReadAllBytes(path);
        for (int i = compressed.Length / 2; i < (compressed.Length / 2) + 64; i++)
        {
            compressed[i] ^= 0x5A;
        }

        File.WriteAllBytes(path, compressed);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt gzip stream", error.Message, StringComparison.Ordinal);
    }
}
