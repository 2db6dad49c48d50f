using System.Runtime.InteropServices;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Tests.Collectives;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Tests.Worker.Training;

public sealed class VaeReplicaTests
{
    private static readonly Lazy<ImageDataset> TrainingSlice = new(() => FashionMnist.Load(FashionMnist.DefaultDirectory, DatasetSplit.Train).Slice(0, 2048));

    [Theory]
    [InlineData("sgd", 0.05)]
    [InlineData("adam", 1e-3)]
    public void Two_workers_on_half_batches_match_one_worker(string optimizer, double learningRate)
    {
        const int steps = 10;
        const int halfBatch = 32;
        var data = TrainingSlice.Value;
        var config = new TrainingConfig(Optimizer: optimizer, LearningRate: learningRate, BatchSizePerWorker: halfBatch, Workers: 2, Seed: 7, WeightDecay: 1e-4);
        TorchRuntime.EnsureLoaded();
        var initial = VaeReplica.InitialWeights(config, data.PixelsPerImage);

        var single = Train(config with { Workers = 1, BatchSizePerWorker = 2 * halfBatch }, data, initial, steps, LoopbackRing.Form(1));
        var pair = Train(config, data, initial, steps, LoopbackRing.Form(2));

        Assert.Equal(pair[0].Checksum, pair[1].Checksum);
        Assert.NotEqual(Floats(initial), single[0].Parameters);
        var maxDifference = single[0].Parameters.Zip(pair[0].Parameters, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDifference <= 1e-5, $"parameters differ by up to {maxDifference} after {steps} {optimizer} steps");
    }

    [Fact]
    public void Uneven_last_batch_keeps_replicas_identical()
    {
        // 101 images over 3 ranks with batch 16: shards of 34, 34 and 33, so the last step has
        // 2, 2 and 1 images and every rank still joins the all-reduce.
        var data = TrainingSlice.Value.Slice(0, 101);
        var config = new TrainingConfig(BatchSizePerWorker: 16, Workers: 3, Seed: 3);
        TorchRuntime.EnsureLoaded();
        var initial = VaeReplica.InitialWeights(config, data.PixelsPerImage);
        var sampler = new DistributedSampler(data.Count, 3, config.Seed);

        var results = Train(config, data, initial, sampler.StepsPerEpoch(16), LoopbackRing.Form(3));

        Assert.Equal(3, sampler.StepsPerEpoch(16));
        Assert.Equal(results[0].Checksum, results[1].Checksum);
        Assert.Equal(results[0].Checksum, results[2].Checksum);
        Assert.Equal(101, results[0].SamplesSeen);
    }

    private static ReplicaResult[] Train(TrainingConfig config, ImageDataset data, byte[] initial, int steps, RingCollective[] ring)
    {
        var sampler = new DistributedSampler(data.Count, ring.Length, config.Seed);
        try
        {
            return LoopbackRing.RunOnEveryRank(ring, r =>
            {
                using var trainer = new VaeReplica(config, data.PixelsPerImage, initial);
                var samples = 0;
                for (var s = 0; s < steps; s++)
                {
                    var batch = sampler.Batch(1, r.Rank, s, config.BatchSizePerWorker);
                    var metrics = trainer.Step(data, batch, s + 1, r.Rank, ring.Length, sampler.GlobalBatchSize(s, config.BatchSizePerWorker), r);
                    Assert.True(double.IsFinite(metrics.Loss));
                    samples += metrics.Samples;
                }

                return new ReplicaResult(trainer.Checksum(), Floats(trainer.Weights()), samples);
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

    /// <summary>Returns every parameter value of an encoded default-size VAE, in registration order.</summary>
    private static float[] Floats(byte[] encoded)
    {
        using var model = new DeepGen.Distributed.Models.Vae(new DeepGen.Distributed.Models.VaeOptions());
        ParameterCodec.Decode(encoded, model);
        return model.parameters().SelectMany(p => MemoryMarshal.Cast<byte, float>(p.bytes).ToArray()).ToArray();
    }

    private sealed record ReplicaResult(string Checksum, float[] Parameters, int SamplesSeen);
}
