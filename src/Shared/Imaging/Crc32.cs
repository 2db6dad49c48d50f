namespace DeepGen.Distributed.Imaging;

/// <summary>
/// CRC-32 as PNG, zlib's crc32 and gzip use it: reflected polynomial 0xEDB88320, initial value and final XOR
/// 0xFFFFFFFF. The check value of the ASCII bytes "123456789" is 0xCBF43926.
/// </summary>
public static class Crc32
{
    /// <summary>Register value before the first byte.</summary>
    public const uint Initial = 0xFFFFFFFFu;

    private static readonly uint[] Table = CreateTable();

    /// <summary>Computes the CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Update(Initial, data));

    /// <summary>Feeds <paramref name="data"/> into the running register <paramref name="crc"/> and returns the new register.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte value in data)
        {
            crc = Table[(crc ^ value) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    /// <summary>Turns a running register into the CRC value by the final XOR.</summary>
    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFFu;

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < table.Length; n++)
        {
            uint c = n;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
