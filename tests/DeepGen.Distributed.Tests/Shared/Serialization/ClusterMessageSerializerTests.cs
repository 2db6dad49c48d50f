using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using DeepGen.Distributed.Cluster;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Serialization;

namespace DeepGen.Distributed.Tests.Serialization;

public sealed class ClusterMessageSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test", ConfigurationFactory.ParseString(
        new ClusterSettings(ClusterRoles.Worker, "127.0.0.1", 0, []).ToConfig().ToString()
            .Replace("provider = cluster", "provider = local", StringComparison.Ordinal)));

    [Fact]
    public void Join_run_round_trips_with_its_payload()
    {
        var weights = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var message = new JoinRun("run-1", 1, new TrainingConfig(Workers: 3, LearningRate: 0.25), [new DataPlaneEndpoint("127.0.0.1", 5000), new DataPlaneEndpoint("::1", 5001)], [1, 2, 3], weights, null);
        var serializer = _system.Serialization.FindSerializerFor(message);

        var copy = (JoinRun)((SerializerWithStringManifest)serializer).FromBinary(serializer.ToBinary(message), typeof(JoinRun).FullName!);

        Assert.IsType<ClusterMessageSerializer>(serializer);
        Assert.Equal(message.Config, copy.Config);
        Assert.Equal(message.Peers, copy.Peers);
        Assert.Equal(weights, copy.InitialWeights);
        Assert.Equal(1, copy.Rank);
    }

    [Fact]
    public void Unknown_manifest_is_rejected()
    {
        var serializer = new ClusterMessageSerializer((ExtendedActorSystem)_system);

        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "System.IO.FileInfo"));

        Assert.Contains("System.IO.FileInfo", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_payload_is_rejected_with_type_name()
    {
        var serializer = new ClusterMessageSerializer((ExtendedActorSystem)_system);

        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary("{\"Rank\": \"x\""u8.ToArray(), typeof(RunJoined).FullName!));

        Assert.Contains(nameof(RunJoined), error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
