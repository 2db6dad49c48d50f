using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DeepGen.Distributed.Imaging;

/// <summary>
/// Writes 8-bit grayscale or RGB PNG files (PNG specification, ISO/IEC 15948): signature, IHDR, one IDAT
/// holding the zlib-compressed rows with filter type 0 (None), and IEND. No interlacing, no ancillary chunks.
/// </summary>
public static class PngWriter
{
    private const byte ColorTypeGrayscale = 0;
    private const byte ColorTypeRgb = 2;

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Writes an 8-bit grayscale PNG; the file is written to <c>path.tmp</c> and then moved over <paramref name="path"/>.</summary>
    /// <param name="path">Destination file; its folder is created when missing.</param>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="pixels">width × height bytes, row-major, 0 black to 255 white.</param>
    /// <exception cref="ArgumentException">The size is not positive or <paramref name="pixels"/> has the wrong length.</exception>
    public static void WriteGrayscale(string path, int width, int height, ReadOnlySpan<byte> pixels) =>
        Write(path, width, height, pixels, ColorTypeGrayscale, bytesPerPixel: 1);

    /// <summary>Writes an 8-bit RGB PNG; the file is written to <c>path.tmp</c> and then moved over <paramref name="path"/>.</summary>
    /// <param name="path">Destination file; its folder is created when missing.</param>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="rgb">width × height × 3 bytes, row-major, red, green, blue per pixel.</param>
    /// <exception cref="ArgumentException">The size is not positive or <paramref name="rgb"/> has the wrong length.</exception>
    public static void WriteRgb(string path, int width, int height, ReadOnlySpan<byte> rgb) =>
        Write(path, width, height, rgb, ColorTypeRgb, bytesPerPixel: 3);

    private static void Write(string path, int width, int height, ReadOnlySpan<byte> pixels, byte colorType, int bytesPerPixel)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);

        long rowBytes = (long)width * bytesPerPixel;
        long expected = rowBytes * height;
        if (pixels.Length != expected)
        {
            throw new ArgumentException(
                $"A {width}x{height} image with {bytesPerPixel} byte(s) per pixel needs {expected} bytes, " +
                $"but {pixels.Length} were given.", nameof(pixels));
        }

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8; // bit depth
        header[9] = colorType;
        header[10] = 0; // compression method: deflate
        header[11] = 0; // filter method: adaptive, with filter type 0 on every row
        header[12] = 0; // interlace method: none

        byte[] imageData = Compress(pixels, (int)rowBytes, height);

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        string temporaryPath = path + ".tmp";
        using (var file = new FileStream(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Signature);
            WriteChunk(file, "IHDR", header);
            WriteChunk(file, "IDAT", imageData);
            WriteChunk(file, "IEND", []);
        }

        File.Move(temporaryPath, path, overwrite: true);
    }

    private static byte[] Compress(ReadOnlySpan<byte> pixels, int rowBytes, int height)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            ReadOnlySpan<byte> filterNone = [0];
            for (int row = 0; row < height; row++)
            {
                zlib.Write(filterNone);
                zlib.Write(pixels.Slice(row * rowBytes, rowBytes));
            }
        }

        return compressed.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);

        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);

        // The CRC covers the chunk type and data but not the length.
        uint crc = Crc32.Update(Crc32.Initial, typeBytes);
        crc = Crc32.Update(crc, data);

        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, Crc32.Finish(crc));

        output.Write(length);
        output.Write(typeBytes);
        output.Write(data);
        output.Write(crcBytes);
    }
}
