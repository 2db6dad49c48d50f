using System.Collections.Concurrent;
using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Serialization;

/// <summary>
/// Serialises <see cref="IClusterMessage"/> records as UTF-8 JSON (System.Text.Json), with the
/// type's full name as manifest. Only types of this assembly that implement
/// <see cref="IClusterMessage"/> are accepted, so a foreign manifest cannot instantiate anything else.
/// </summary>
/// <remarks>
/// Akka's default Newtonsoft serializer writes <c>float[]</c> as text and turns <c>int</c> into
/// <c>long</c> behind <c>object</c>; System.Text.Json keeps the declared types and writes
/// <c>byte[]</c> as base64.
/// </remarks>
public sealed class ClusterMessageSerializer : SerializerWithStringManifest
{
    /// <summary>Serializer id in Akka's registry (0 to 40 are reserved by Akka).</summary>
    public const int SerializerId = 410;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly ConcurrentDictionary<string, Type> Types = new(
        typeof(IClusterMessage).Assembly.GetTypes()
            .Where(t => typeof(IClusterMessage).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
            .ToDictionary(t => t.FullName!, t => t));

    public ClusterMessageSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
        {
            throw new SerializationException($"Unknown cluster message type '{manifest}': the sender runs another version of DeepGen.Distributed. Run the same build on every node.");
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, type, Options)
                ?? throw new SerializationException($"Cluster message '{manifest}' was null.");
        }
        catch (JsonException error)
        {
            throw new SerializationException($"Malformed cluster message '{manifest}' ({bytes.Length} bytes): {error.Message}", error);
        }
    }

    /// <inheritdoc />
    public override string Manifest(object o) => o.GetType().FullName!;
}
