namespace DeepGen.Distributed.Collectives;

/// <summary>Settings of the TCP ring.</summary>
/// <param name="Timeout">
/// How long a connect, handshake, send or receive may block before the collective fails. A peer
/// that is stopped (not dead) is detected through this timeout.
/// </param>
/// <param name="ChunkBytes">
/// Transfer unit of the pipeline: a received chunk is summed while the next one is in flight.
/// It is capped at half of the socket buffers that the kernel grants.
/// </param>
public sealed record CollectiveOptions(TimeSpan Timeout, int ChunkBytes = 256 * 1024)
{
    /// <summary>Element format on the wire; fp32 (exact) unless compression is requested.</summary>
    public WireFormat Wire { get; init; } = WireFormat.Fp32;

    /// <summary>30 s timeout, 256 KiB chunks.</summary>
    public static CollectiveOptions Default { get; } = new(TimeSpan.FromSeconds(30));

    /// <summary>Checks the values and names the bad one.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "The collective timeout must be positive, for example 30 seconds.");
        }

        if (ChunkBytes < 4096 || ChunkBytes % sizeof(float) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ChunkBytes), ChunkBytes, "The chunk size must be at least 4096 bytes and a multiple of 4.");
        }
    }
}
