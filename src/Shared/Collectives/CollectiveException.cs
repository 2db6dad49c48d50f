namespace DeepGen.Distributed.Collectives;

/// <summary>
/// A collective failed on this rank: a peer closed its connection, stopped responding within the
/// timeout, failed the handshake or sent a malformed frame. The ring is unusable afterwards.
/// </summary>
public sealed class CollectiveException : Exception
{
    public CollectiveException(string message)
        : base(message)
    {
    }

    public CollectiveException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CollectiveException()
    {
    }

    /// <summary>Rank of the peer that failed, when known.</summary>
    public int? PeerRank { get; init; }
}
