using System.Buffers.Binary;
using System.IO.Compression;

namespace DeepGen.Distributed.Data;

/// <summary>
/// Byte source for one IDX file: opens it, decompresses gzip when the file starts with 1f 8b, and turns short
/// reads and corrupt gzip data into <see cref="DatasetFormatException"/>s that name the file.
/// </summary>
internal sealed class IdxInput : IDisposable
{
    private readonly string path;
    private readonly Stream stream;
    private readonly bool compressed;

    private IdxInput(string path, Stream stream, bool compressed)
    {
        this.path = path;
        this.stream = stream;
        this.compressed = compressed;
    }

    public static IdxInput Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException(path, IdxReader.MissingFileMessage("file"));
        }

        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int read = file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
            file.Position = 0;

            bool gzip = read == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            return new IdxInput(path, stream, gzip);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the fixed-size header of an IDX file of <paramref name="kind"/>. The magic number is checked before
    /// the length, so a short file of the other IDX kind is reported as the wrong kind rather than as truncated.
    /// </summary>
    public void ReadHeader(Span<byte> header, string kind, int expectedMagic)
    {
        int read = ReadUpTo(header);
        if (read >= sizeof(int))
        {
            IdxReader.CheckMagic(path, BinaryPrimitives.ReadInt32BigEndian(header), expectedMagic);
        }

        if (read < header.Length)
        {
            throw new DatasetFormatException(path,
                $"truncated header: an IDX {kind} header is {header.Length} bytes, found {read}{AfterDecompression}; " +
                "the file is incomplete or not an IDX file, download it again");
        }
    }

    /// <summary>Fills <paramref name="data"/> with the bytes after the header.</summary>
    /// <param name="data">Destination sized from the header.</param>
    /// <param name="contents">What the header declares, for the message, such as "60000 labels".</param>
    /// <param name="headerSize">Header length in bytes, for the message.</param>
    public void ReadData(Span<byte> data, string contents, int headerSize)
    {
        int read = ReadUpTo(data);
        if (read < data.Length)
        {
            throw new DatasetFormatException(path,
                $"truncated data: the header declares {contents}, so {data.Length} bytes are expected after the " +
                $"{headerSize}-byte header, found {read}{AfterDecompression}; the file is incomplete, download it again");
        }
    }

    /// <summary>Rejects bytes after the data, which mean the header's count is smaller than the file's contents.</summary>
    public void RejectTrailingBytes(string contents)
    {
        var buffer = new byte[1 << 16];
        long extra = 0;
        int read;
        while ((read = ReadUpTo(buffer)) > 0)
        {
            extra += read;
        }

        if (extra > 0)
        {
            throw new DatasetFormatException(path,
                $"{extra} bytes follow the {contents} that the header declares{AfterDecompression}; the header count " +
                "is wrong or two files were joined, download the file again");
        }
    }

    public void Dispose() => stream.Dispose();

    private string AfterDecompression => compressed ? " (after gzip decompression)" : "";

    private int ReadUpTo(Span<byte> buffer)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException error)
        {
            throw new DatasetFormatException(path,
                $"corrupt gzip stream ({error.Message}); the file is damaged, download it again");
        }
    }
}
