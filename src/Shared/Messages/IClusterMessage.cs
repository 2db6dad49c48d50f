namespace DeepGen.Distributed.Messages;

/// <summary>
/// Marks the records that cross actor-system boundaries. They are serialised as JSON by
/// <see cref="Serialization.ClusterMessageSerializer"/>, with the type name as manifest.
/// </summary>
public interface IClusterMessage
{
}
