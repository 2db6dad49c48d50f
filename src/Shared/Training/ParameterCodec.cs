using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Training;

/// <summary>
/// Binary form of a module's state: the magic "DGPW", a version, the tensor count, then per tensor
/// its name, shape and fp32 data in native (little-endian) order. The state is every parameter
/// followed by every floating-point buffer (BatchNorm running statistics); integer buffers such as
/// BatchNorm's batch counter are left out. Used for the initial weights, snapshots and checkpoints.
/// </summary>
public static class ParameterCodec
{
    private const uint Magic = 0x44475057; // "DGPW"
    private const int Version = 1;

    /// <summary>Writes every parameter of <paramref name="module"/> in registration order.</summary>
    public static byte[] Encode(nn.Module module)
    {
        using var stream = new MemoryStream();
        Span<byte> word = stackalloc byte[8];
        var parameters = State(module);
        BinaryPrimitives.WriteUInt32BigEndian(word, Magic);
        stream.Write(word[..4]);
        BinaryPrimitives.WriteInt32LittleEndian(word, Version);
        stream.Write(word[..4]);
        BinaryPrimitives.WriteInt32LittleEndian(word, parameters.Count);
        stream.Write(word[..4]);
        foreach (var (name, parameter) in parameters)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            BinaryPrimitives.WriteInt32LittleEndian(word, nameBytes.Length);
            stream.Write(word[..4]);
            stream.Write(nameBytes);
            BinaryPrimitives.WriteInt32LittleEndian(word, parameter.shape.Length);
            stream.Write(word[..4]);
            foreach (var dimension in parameter.shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(word, dimension);
                stream.Write(word);
            }

            using var contiguous = parameter.detach().contiguous();
            stream.Write(contiguous.bytes);
        }

        return stream.ToArray();
    }

    /// <summary>Copies encoded parameters into <paramref name="module"/>, checking names and shapes.</summary>
    /// <exception cref="InvalidDataException">The bytes are not parameters of this architecture.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, nn.Module module)
    {
        var reader = new SpanReader(encoded);
        if (reader.Remaining < 12 || BinaryPrimitives.ReadUInt32BigEndian(encoded) != Magic)
        {
            throw new InvalidDataException("Not a DeepGen parameter blob (missing the DGPW magic).");
        }

        reader.Skip(4);
        var version = reader.ReadInt32();
        if (version != Version)
        {
            throw new InvalidDataException($"Parameter blob version {version} is not supported; this build reads version {Version}.");
        }

        var parameters = State(module);
        var count = reader.ReadInt32();
        if (count != parameters.Count)
        {
            throw new InvalidDataException($"The blob contains {count} parameters but the model has {parameters.Count}; check that they were saved from a model with the same --hidden-size and --latent-size.");
        }

        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in parameters)
        {
            var storedName = Encoding.UTF8.GetString(reader.Read(reader.ReadInt32()));
            var rank = reader.ReadInt32();
            var shape = new long[rank];
            for (var d = 0; d < rank; d++)
            {
                shape[d] = reader.ReadInt64();
            }

            if (storedName != name || !shape.SequenceEqual(parameter.shape))
            {
                throw new InvalidDataException(
                    $"Parameter '{storedName}' [{string.Join(", ", shape)}] does not match the model's '{name}' [{string.Join(", ", parameter.shape)}]; check --hidden-size and --latent-size.");
            }

            var data = reader.Read(checked((int)parameter.numel() * sizeof(float)));
            data.CopyTo(parameter.bytes);
        }

        if (reader.Remaining != 0)
        {
            throw new InvalidDataException($"{reader.Remaining} unexpected bytes follow the last parameter.");
        }
    }

    /// <summary>Returns false when any value in an encoded state is NaN or infinite, so that such weights are never checkpointed.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an encoded state.</exception>
    public static bool AllFinite(ReadOnlySpan<byte> encoded)
    {
        var reader = new SpanReader(encoded);
        if (reader.Remaining < 12 || BinaryPrimitives.ReadUInt32BigEndian(encoded) != Magic)
        {
            throw new InvalidDataException("Not a DeepGen parameter blob (missing the DGPW magic).");
        }

        reader.Skip(8);
        var count = reader.ReadInt32();
        for (var t = 0; t < count; t++)
        {
            reader.Skip(reader.ReadInt32());
            var rank = reader.ReadInt32();
            long elements = 1;
            for (var d = 0; d < rank; d++)
            {
                elements *= reader.ReadInt64();
            }

            var data = reader.Read(checked((int)elements * sizeof(float)));
            for (var i = 0; i < data.Length; i += sizeof(float))
            {
                if (!float.IsFinite(BinaryPrimitives.ReadSingleLittleEndian(data[i..])))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>SHA-256 of the state's raw bytes, as lowercase hex. Equal checksums mean bitwise-equal replicas.</summary>
    public static string Checksum(nn.Module module)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, parameter) in State(module))
        {
            using var contiguous = parameter.detach().contiguous();
            hash.AppendData(contiguous.bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Returns the parameters, then the fp32 buffers, with their qualified names.</summary>
    private static List<(string Name, Tensor Tensor)> State(nn.Module module)
    {
        var state = module.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        state.AddRange(module.named_buffers().Where(b => b.buffer.dtype == ScalarType.Float32).Select(b => (b.name, b.buffer)));
        return state;
    }

    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public readonly int Remaining => _data.Length;

        public void Skip(int count) => Read(count);

        public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Read(4));

        public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Read(8));

        public ReadOnlySpan<byte> Read(int count)
        {
            if (count < 0 || count > _data.Length)
            {
                throw new InvalidDataException($"The parameter blob is truncated: {count} more bytes were expected, {_data.Length} remain.");
            }

            var result = _data[..count];
            _data = _data[count..];
            return result;
        }
    }
}
