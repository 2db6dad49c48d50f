using System.Runtime.InteropServices;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Tests.Collectives;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Tests.Worker.Training;

/// <summary>Two workers on half batches must reach the parameters of one worker on the whole batch.</summary>
public sealed class ReplicaEquivalenceTests
{
    private static readonly Lazy<ImageDataset> TrainingSlice = new(() => FashionMnist.Load(FashionMnist.DefaultDirectory, DatasetSplit.Train).Slice(0, 2048));

    [Theory]
    [InlineData("autoencoder", "adam", 1e-3, "dcgan")]
    [InlineData("autoencoder", "sgd", 0.5, "dcgan")]
    [InlineData("gan", "adam", 2e-4, "mlp")]
    public void Two_workers_match_one_worker(string model, string optimizer, double learningRate, string ganArchitecture)
    {
        const int steps = 10;
        const int halfBatch = 32;
        var data = TrainingSlice.Value;
        var config = new TrainingConfig(
            Model: model, Optimizer: optimizer, LearningRate: learningRate, BatchSizePerWorker: halfBatch, Workers: 2, Seed: 5,
            WeightDecay: 1e-4, GanArchitecture: ganArchitecture, DiscriminatorSteps: 2);
        TorchRuntime.EnsureLoaded();
        var initial = ReplicaFactory.InitialWeights(config, data.Rows, data.Columns);

        var single = Train(config with { Workers = 1, BatchSizePerWorker = 2 * halfBatch }, data, initial, steps, LoopbackRing.Form(1));
        var pair = Train(config, data, initial, steps, LoopbackRing.Form(2));

        Assert.Equal(pair[0].Checksum, pair[1].Checksum);
        Assert.NotEqual(Values(config, data, initial), single[0].Values);
        var maxDifference = single[0].Values.Zip(pair[0].Values, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDifference <= 1e-5, $"{model}: parameters differ by up to {maxDifference} after {steps} steps");
    }

    [Fact]
    public void Dcgan_replicas_stay_identical_with_averaged_batchnorm()
    {
        var data = TrainingSlice.Value;
        var config = new TrainingConfig(Model: "gan", BatchSizePerWorker: 16, Workers: 3, Seed: 2);
        TorchRuntime.EnsureLoaded();
        var initial = ReplicaFactory.InitialWeights(config, data.Rows, data.Columns);

        var results = Train(config, data, initial, 4, LoopbackRing.Form(3));

        Assert.Equal(results[0].Checksum, results[1].Checksum);
        Assert.Equal(results[0].Checksum, results[2].Checksum);
    }

    private static (string Checksum, float[] Values)[] Train(TrainingConfig config, ImageDataset data, byte[] initial, int steps, RingCollective[] ring)
    {
        var sampler = new DistributedSampler(data.Count, ring.Length, config.Seed);
        try
        {
            return LoopbackRing.RunOnEveryRank(ring, r =>
            {
                using var replica = ReplicaFactory.Create(config, data.Rows, data.Columns, initial);
                for (var s = 0; s < steps; s++)
                {
                    var batch = sampler.Batch(1, r.Rank, s, config.BatchSizePerWorker);
                    var metrics = replica.Step(data, batch, s + 1, r.Rank, ring.Length, sampler.GlobalBatchSize(s, config.BatchSizePerWorker), r);
                    Assert.True(double.IsFinite(metrics.Loss));
                }

                return (replica.Checksum(), Values(config, data, replica.Weights()));
            });
        }
        finally
        {
            foreach (var r in ring)
            {
                r.Dispose();
            }
        }
    }

    /// <summary>Decodes a state into a fresh model of the family and returns every parameter value.</summary>
    private static float[] Values(TrainingConfig config, ImageDataset data, byte[] state)
    {
        using nn.Module module = config.Model == "gan"
            ? new GanNetworks(config.GanArchitecture, new DcganOptions(config.LatentSize))
            : new Autoencoder(new AutoencoderOptions(data.PixelsPerImage, config.LatentSize));
        ParameterCodec.Decode(state, module);
        return module.parameters().SelectMany(p => MemoryMarshal.Cast<byte, float>(p.bytes).ToArray()).ToArray();
    }
}
