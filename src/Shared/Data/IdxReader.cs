using System.Buffers.Binary;
using System.IO.Compression;

namespace DeepGen.Distributed.Data;

/// <summary>
/// Reads and writes the IDX files that MNIST and Fashion-MNIST ship in: a big-endian header (magic number,
/// then one 32-bit size per dimension) followed by the data. Only unsigned-byte images (magic 0x00000803)
/// and unsigned-byte labels (magic 0x00000801) are supported. Files may be gzip-compressed or plain; the
/// gzip magic bytes 1f 8b decide, not the file extension.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of an IDX file of unsigned bytes with three dimensions (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an IDX file of unsigned bytes with one dimension (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Largest image height or width accepted from a header; larger values mean a corrupt header.</summary>
    public const int MaxImageSide = 16384;

    private const int ImagesHeaderSize = 16;
    private const int LabelsHeaderSize = 8;

    private const string GetDatasetHint =
        "install Fashion-MNIST with 'sudo apt-get install dataset-fashion-mnist' (Debian/Ubuntu) " +
        "or pass --data DIR with a folder that contains the four IDX files";

    /// <summary>Reads an IDX images file (magic 0x00000803), gzip-compressed or plain.</summary>
    /// <exception cref="DatasetFormatException">
    /// The file is missing, is not an IDX images file, has a truncated header or data, declares invalid
    /// dimensions, or is a corrupt gzip stream.
    /// </exception>
    public static IdxImages ReadImages(string path)
    {
        ArgumentNullException.ThrowIfNull(path);

        using var input = IdxInput.Open(path);

        Span<byte> header = stackalloc byte[ImagesHeaderSize];
        input.ReadHeader(header, "images", ImagesMagic);

        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        long byteCount = CheckImageDimensions(path, count, rows, columns);

        var pixels = new byte[byteCount];
        input.ReadData(pixels, $"{count} images of {rows}x{columns}", ImagesHeaderSize);
        input.RejectTrailingBytes($"{count} images of {rows}x{columns}");

        return new IdxImages(count, rows, columns, pixels);
    }

    /// <summary>Reads an IDX labels file (magic 0x00000801), gzip-compressed or plain.</summary>
    /// <returns>One byte per sample, in file order.</returns>
    /// <exception cref="DatasetFormatException">
    /// The file is missing, is not an IDX labels file, has a truncated header or data, declares an invalid
    /// count, or is a corrupt gzip stream.
    /// </exception>
    public static byte[] ReadLabels(string path)
    {
        ArgumentNullException.ThrowIfNull(path);

        using var input = IdxInput.Open(path);

        Span<byte> header = stackalloc byte[LabelsHeaderSize];
        input.ReadHeader(header, "labels", LabelsMagic);

        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count < 1 || count > Array.MaxLength)
        {
            throw new DatasetFormatException(path,
                $"invalid header: label count {count} must be between 1 and {Array.MaxLength}; " +
                "the header is corrupt, download the file again");
        }

        var labels = new byte[count];
        input.ReadData(labels, $"{count} labels", LabelsHeaderSize);
        input.RejectTrailingBytes($"{count} labels");

        return labels;
    }

    /// <summary>Writes <paramref name="images"/> as an IDX images file, gzip-compressed when <paramref name="gzip"/> is true.</summary>
    /// <exception cref="ArgumentException">The dimensions are not positive or do not match the pixel count.</exception>
    public static void WriteImages(string path, IdxImages images, bool gzip)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(images.Count, 1, nameof(images));
        ArgumentOutOfRangeException.ThrowIfLessThan(images.Rows, 1, nameof(images));
        ArgumentOutOfRangeException.ThrowIfLessThan(images.Columns, 1, nameof(images));

        long expected = (long)images.Count * images.Rows * images.Columns;
        if (images.Pixels.Length != expected)
        {
            throw new ArgumentException(
                $"{images.Count} images of {images.Rows}x{images.Columns} need {expected} pixel bytes, " +
                $"but Pixels has {images.Pixels.Length}.", nameof(images));
        }

        Span<byte> header = stackalloc byte[ImagesHeaderSize];
        BinaryPrimitives.WriteInt32BigEndian(header, ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], images.Count);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], images.Rows);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], images.Columns);

        Write(path, header, images.Pixels, gzip);
    }

    /// <summary>Writes <paramref name="labels"/> as an IDX labels file, gzip-compressed when <paramref name="gzip"/> is true.</summary>
    /// <exception cref="ArgumentException"><paramref name="labels"/> is empty.</exception>
    public static void WriteLabels(string path, byte[] labels, bool gzip)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length == 0)
        {
            throw new ArgumentException("An IDX labels file needs at least one label.", nameof(labels));
        }

        Span<byte> header = stackalloc byte[LabelsHeaderSize];
        BinaryPrimitives.WriteInt32BigEndian(header, LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], labels.Length);

        Write(path, header, labels, gzip);
    }

    internal static string MissingFileMessage(string what) => $"{what} not found; {GetDatasetHint}";

    private static void Write(string path, ReadOnlySpan<byte> header, byte[] data, bool gzip)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using Stream output = gzip ? new GZipStream(file, CompressionLevel.Optimal) : file;
        output.Write(header);
        output.Write(data);
    }

    internal static void CheckMagic(string path, int magic, int expected)
    {
        if (magic == expected)
        {
            return;
        }

        string expectedKind = expected == ImagesMagic ? "images" : "labels";
        string problem = magic switch
        {
            LabelsMagic => "is an IDX label file",
            ImagesMagic => "is an IDX image file",
            _ when (magic & unchecked((int)0xFFFF0000)) == 0 => "is an IDX file of another data type or dimension count",
            _ => "is not an IDX file",
        };

        throw new DatasetFormatException(path,
            $"magic number 0x{magic:X8} {problem}, expected 0x{expected:X8} ({expectedKind}); " +
            $"pass the {expectedKind} file");
    }

    private static long CheckImageDimensions(string path, int count, int rows, int columns)
    {
        if (count < 1 || rows < 1 || rows > MaxImageSide || columns < 1 || columns > MaxImageSide)
        {
            throw new DatasetFormatException(path,
                $"invalid header: {count} images of {rows}x{columns}; the count must be at least 1 and rows and " +
                $"columns between 1 and {MaxImageSide}, so the header is corrupt, download the file again");
        }

        long byteCount = (long)count * rows * columns;
        if (byteCount > Array.MaxLength)
        {
            throw new DatasetFormatException(path,
                $"invalid header: {count} images of {rows}x{columns} would be {byteCount} bytes, more than the " +
                $"largest array ({Array.MaxLength} bytes), so the header is corrupt, download the file again");
        }

        return byteCount;
    }
}
