using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DeepGen.Distributed.Imaging;

namespace DeepGen.Distributed.Tests.Imaging;

public sealed class PngWriterTests : IDisposable
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly TemporaryDirectory folder = new();

    public void Dispose() => folder.Dispose();

    private sealed record Chunk(string Type, byte[] Data, uint StoredCrc, uint ComputedCrc);

    private static List<Chunk> ReadChunks(byte[] file)
    {
        var chunks = new List<Chunk>();
        int offset = Signature.Length;
        while (offset < file.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(offset));
            string type = Encoding.ASCII.GetString(file, offset + 4, 4);
            byte[] data = file.AsSpan(offset + 8, length).ToArray();
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(offset + 8 + length));
            uint computedCrc = Crc32.Compute(file.AsSpan(offset + 4, 4 + length));
            chunks.Add(new Chunk(type, data, storedCrc, computedCrc));
            offset += 12 + length;
        }

        return chunks;
    }

    private static byte[] Inflate(byte[] zlibData)
    {
        using var input = new ZLibStream(new MemoryStream(zlibData), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Unfilter(byte[] scanlines, int rowBytes, int height)
    {
        var pixels = new byte[rowBytes * height];
        for (int row = 0; row < height; row++)
        {
            Assert.Equal(0, scanlines[row * (rowBytes + 1)]);
            Array.Copy(scanlines, (row * (rowBytes + 1)) + 1, pixels, row * rowBytes, rowBytes);
        }

        return pixels;
    }

    [Fact]
    public void Crc32_matches_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
    }

    [Fact]
    public void Grayscale_png_decodes_to_original_pixels()
    {
        string path = folder.File("gray.png");
        const int width = 5;
        const int height = 3;
        byte[] pixels = Enumerable.Range(0, width * height).Select(i => (byte)(i * 17)).ToArray();

        PngWriter.WriteGrayscale(path, width, height, pixels);
        byte[] file = File.ReadAllBytes(path);
        var chunks = ReadChunks(file);

        Assert.Equal(Signature, file[..8]);
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(chunk => chunk.Type).ToArray());
        Assert.All(chunks, chunk => Assert.Equal(chunk.ComputedCrc, chunk.StoredCrc));

        byte[] header = chunks[0].Data;
        Assert.Equal(13, header.Length);
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(header));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4)));
        Assert.Equal(8, header[8]);
        Assert.Equal(0, header[9]);
        Assert.Equal(0, header[12]);

        Assert.Equal(pixels, Unfilter(Inflate(chunks[1].Data), width, height));
        Assert.Empty(chunks[2].Data);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Rgb_png_decodes_to_original_pixels()
    {
        string path = folder.File("nested/rgb.png");
        const int width = 2;
        const int height = 2;
        byte[] rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];

        PngWriter.WriteRgb(path, width, height, rgb);
        var chunks = ReadChunks(File.ReadAllBytes(path));

        Assert.All(chunks, chunk => Assert.Equal(chunk.ComputedCrc, chunk.StoredCrc));
        Assert.Equal(2, chunks[0].Data[9]);
        Assert.Equal(rgb, Unfilter(Inflate(chunks[1].Data), width * 3, height));
    }

    [Fact]
    public void Existing_file_is_replaced()
    {
        string path = folder.File("replace.png");
        File.WriteAllText(path, "old contents");

        PngWriter.WriteGrayscale(path, 1, 1, [128]);

        Assert.Equal(Signature, File.ReadAllBytes(path)[..8]);
    }

    [Fact]
    public void Wrong_pixel_count_is_rejected()
    {
        string path = folder.File("bad.png");

        Assert.Throws<ArgumentException>(() => PngWriter.WriteGrayscale(path, 2, 2, new byte[3]));
        Assert.Throws<ArgumentException>(() => PngWriter.WriteRgb(path, 2, 2, new byte[4]));
        Assert.False(File.Exists(path));
    }
}
