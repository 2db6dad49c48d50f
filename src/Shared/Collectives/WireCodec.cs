using System.Buffers.Binary;

namespace DeepGen.Distributed.Collectives;

/// <summary>Converts fp32 values to and from a 16-bit <see cref="WireFormat"/>, little-endian on the wire.</summary>
internal static class WireCodec
{
    public static int BytesPerElement(WireFormat format) => format == WireFormat.Fp32 ? sizeof(float) : sizeof(ushort);

    public static void Encode(WireFormat format, ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var bits = format == WireFormat.Fp16 ? BitConverter.HalfToUInt16Bits((Half)values[i]) : ToBFloat16(values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], bits);
        }
    }

    public static void Decode(WireFormat format, ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            var bits = BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]);
            destination[i] = format == WireFormat.Fp16 ? (float)BitConverter.UInt16BitsToHalf(bits) : BitConverter.UInt32BitsToSingle((uint)bits << 16);
        }
    }

    /// <summary>Replaces each value by what a peer decodes after it crossed the wire.</summary>
    public static void RoundTrip(WireFormat format, Span<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = format == WireFormat.Fp16
                ? (float)(Half)values[i]
                : BitConverter.UInt32BitsToSingle((uint)ToBFloat16(values[i]) << 16);
        }
    }

    /// <summary>Rounds to the nearest bfloat16, ties to even; NaN stays NaN.</summary>
    private static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x0040);
        }

        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
