using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using DeepGen.Distributed.Configuration;

namespace DeepGen.Distributed.Coordinator.Output;

/// <summary>
/// Reads and writes checkpoint files. Layout, integers little-endian:
/// the magic "DGCK" (4 bytes), the format version (int32), the header length H (int32),
/// H bytes of UTF-8 JSON <c>{"config", "epoch", "step", "position", "weightsLength", "optimizerLength", "noise"}</c>,
/// the weights bytes, the optimizer state bytes, and the SHA-256 (32 bytes) of everything before it.
/// Version 1 files (no position, no optimizer state) are still read.
/// </summary>
public static class Checkpoint
{
    /// <summary>Format version that <see cref="Write"/> produces and <see cref="Read"/> accepts.</summary>
    public const int FormatVersion = 2;

    /// <summary>
    /// How the run's random numbers are reproduced. Every step draws its noise from a generator
    /// seeded by (seed, step), so the configuration's seed and the step are the whole RNG state.
    /// </summary>
    public const string NoiseState = "per-step generators seeded by (config.seed, step)";

    private const int PrefixLength = 12;
    private const int HashLength = 32;
    private const string RetrainFix = "Use another checkpoint or train again to produce a new one";

    private static ReadOnlySpan<byte> Magic => "DGCK"u8;

    /// <summary>
    /// Writes <paramref name="data"/> to <c>path.tmp</c>, flushes it to disk and then moves it over
    /// <paramref name="path"/>, so that <paramref name="path"/> contains either the previous file or the whole new one.
    /// </summary>
    /// <remarks>Creates the folder when missing. On failure the temporary file is deleted and the previous
    /// file at <paramref name="path"/>, if any, is left as it was.</remarks>
    public static void Write(string path, CheckpointData data)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(data.Config);
        ArgumentNullException.ThrowIfNull(data.Weights);

        var optimizer = data.OptimizerState ?? [];
        var header = new CheckpointHeader(data.Config, data.Epoch, data.Step, data.Weights.Length, data.Position, optimizer.Length, NoiseState);
        byte[] headerBytes = JsonSerializer.SerializeToUtf8Bytes(header, OutputJson.Compact);

        Span<byte> prefix = stackalloc byte[PrefixLength];
        Magic.CopyTo(prefix);
        BinaryPrimitives.WriteInt32LittleEndian(prefix[4..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(prefix[8..], headerBytes.Length);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(prefix);
        hash.AppendData(headerBytes);
        hash.AppendData(data.Weights);
        hash.AppendData(optimizer);
        byte[] checksum = hash.GetHashAndReset();

        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        string temporaryPath = path + ".tmp";
        try
        {
            using (var file = new FileStream(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                file.Write(prefix);
                file.Write(headerBytes);
                file.Write(data.Weights);
                file.Write(optimizer);
                file.Write(checksum);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporaryPath, path, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporaryPath);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The write error below is the one to report; a leftover .tmp file is never read.
            }

            throw;
        }
    }

    /// <summary>Reads and verifies a checkpoint written by <see cref="Write"/>.</summary>
    /// <exception cref="CheckpointException">The file is missing, is not a checkpoint, has an unsupported
    /// format version, is truncated, or fails the SHA-256 check.</exception>
    public static CheckpointData Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);

        byte[] file = ReadFile(path);
        if (file.Length < PrefixLength)
        {
            throw Truncated(path, PrefixLength + HashLength, file.Length);
        }

        if (!file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new CheckpointException(path, "not a DeepGen checkpoint (the file does not start with \"DGCK\")",
                "Pass a file written by a training run's checkpoints folder");
        }

        int version = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(4));
        if (version is not (1 or FormatVersion))
        {
            throw new CheckpointException(path,
                $"format version {version} is not supported, because this build reads version {FormatVersion}",
                "Open it with the build that wrote it, or train again with this build");
        }

        if (!HasValidChecksum(file))
        {
            // A truncated file also fails the checksum, so report truncation when the header shows it.
            long? expectedLength = TryReadExpectedLength(file);
            if (expectedLength is long expected && file.Length < expected)
            {
                throw Truncated(path, expected, file.Length);
            }

            throw new CheckpointException(path, "corrupt: SHA-256 mismatch", RetrainFix);
        }

        return Parse(path, file);
    }

    /// <summary>Returns the step in the header of <paramref name="path"/> without reading the weights, or null when the header cannot be read.</summary>
    public static long? TryReadStep(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> prefix = stackalloc byte[PrefixLength];
            if (file.Read(prefix) != PrefixLength || !prefix[..4].SequenceEqual(Magic))
            {
                return null;
            }

            int headerLength = BinaryPrimitives.ReadInt32LittleEndian(prefix[8..]);
            if (headerLength <= 0 || headerLength > file.Length - PrefixLength)
            {
                return null;
            }

            var headerBytes = new byte[headerLength];
            file.ReadExactly(headerBytes);
            return JsonSerializer.Deserialize<CheckpointHeader>(headerBytes, OutputJson.Compact)?.Step;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointException(path, "file not found", "Check the path, or pass a file from a run's checkpoints folder", error);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"cannot be read ({error.Message})", "Check the file's permissions and the disk", error);
        }
    }

    private static bool HasValidChecksum(byte[] file)
    {
        if (file.Length < PrefixLength + HashLength)
        {
            return false;
        }

        int contentLength = file.Length - HashLength;
        byte[] computed = SHA256.HashData(file.AsSpan(0, contentLength));
        return CryptographicOperations.FixedTimeEquals(computed, file.AsSpan(contentLength));
    }

    /// <summary>Returns the file length that the header describes, or null when the header cannot be read.</summary>
    private static long? TryReadExpectedLength(byte[] file)
    {
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(8));
        if (headerLength < 0 || headerLength > file.Length - PrefixLength)
        {
            return null;
        }

        try
        {
            var header = JsonSerializer.Deserialize<CheckpointHeader>(file.AsSpan(PrefixLength, headerLength), OutputJson.Compact);
            if (header is null || header.WeightsLength < 0)
            {
                return null;
            }

            return (long)PrefixLength + headerLength + header.WeightsLength + Math.Max(0, header.OptimizerLength) + HashLength;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static CheckpointData Parse(string path, byte[] file)
    {
        const string WriterFix = "The checksum matches, so the writer produced this layout; write the checkpoint again with this build";
        int contentLength = file.Length - HashLength;
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(8));
        if (headerLength < 0 || headerLength > contentLength - PrefixLength)
        {
            throw new CheckpointException(path,
                $"invalid header length {headerLength} for a file of {file.Length} bytes", WriterFix);
        }

        CheckpointHeader? header;
        try
        {
            header = JsonSerializer.Deserialize<CheckpointHeader>(file.AsSpan(PrefixLength, headerLength), OutputJson.Compact);
        }
        catch (JsonException error)
        {
            throw new CheckpointException(path, $"invalid JSON header ({error.Message})", WriterFix, error);
        }

        if (header?.Config is null)
        {
            throw new CheckpointException(path, "the JSON header has no config", WriterFix);
        }

        int weightsOffset = PrefixLength + headerLength;
        if (header.WeightsLength < 0 || header.OptimizerLength < 0 || header.WeightsLength + header.OptimizerLength != contentLength - weightsOffset)
        {
            throw new CheckpointException(path,
                $"the header gives {header.WeightsLength} weight bytes and {header.OptimizerLength} optimizer bytes, but the file contains {contentLength - weightsOffset}",
                WriterFix);
        }

        byte[] weights = file.AsSpan(weightsOffset, (int)header.WeightsLength).ToArray();
        byte[]? optimizer = header.OptimizerLength > 0 ? file.AsSpan(weightsOffset + (int)header.WeightsLength, (int)header.OptimizerLength).ToArray() : null;
        return new CheckpointData(header.Config, header.Epoch, header.Step, weights, header.Position, optimizer);
    }

    private static CheckpointException Truncated(string path, long expectedLength, long actualLength) =>
        new(path, $"truncated: expected {expectedLength} bytes, found {actualLength}",
            "The write was probably interrupted; use an earlier checkpoint or train again");

    /// <summary>JSON header of the checkpoint file.</summary>
    private sealed record CheckpointHeader(TrainingConfig Config, int Epoch, long Step, long WeightsLength, long Position = 0, long OptimizerLength = 0, string? Noise = null);
}
