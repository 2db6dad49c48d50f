using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Tests.Collectives;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Tests.Worker.Training;

/// <summary>What a replica leaves behind when a peer is lost in the middle of an iteration.</summary>
public sealed class ReplicaRecoveryTests
{
    private static readonly Lazy<ImageDataset> TrainingSlice = new(() => FashionMnist.Load(FashionMnist.DefaultDirectory, DatasetSplit.Train).Slice(0, 256));

    [Fact]
    public async Task Failed_gan_iteration_leaves_no_partial_update()
    {
        TorchRuntime.EnsureLoaded();
        var data = TrainingSlice.Value;
        var config = new TrainingConfig(Model: "gan", BatchSizePerWorker: 8, Workers: 2, Seed: 3);
        var initial = ReplicaFactory.InitialWeights(config, data.Rows, data.Columns);
        var ring = LoopbackRing.Form(2);
        using var replica = ReplicaFactory.Create(config, data.Rows, data.Columns, initial);
        var sampler = new DistributedSampler(data.Count, 2, config.Seed);
        var before = replica.Checksum();
        var optimizerBefore = replica.OptimizerState();
        var discriminatorLength = ((GanReplica)replica).Networks.Discriminator.parameters().Sum(p => (int)p.numel());

        // The peer takes part in the discriminator's all-reduce (gradients, J_D and the control
        // slot), then leaves, so rank 0 fails in the generator's all-reduce after updating D.
        var peer = Task.Run(() =>
        {
            ring[1].AllReduceSum(new float[discriminatorLength + 2]);
            ring[1].Dispose();
        });
        var error = Record.Exception(() => replica.Step(data, sampler.BatchAt(1, 0, 0, 2, 8), 1, 0, 2, 16, ring[0]));
        await peer.WaitAsync(TimeSpan.FromSeconds(30));
        ring[0].Dispose();

        Assert.IsType<CollectiveException>(error);
        Assert.Equal(before, replica.Checksum());
        Assert.Equal(optimizerBefore, replica.OptimizerState());
    }

    [Fact]
    public void Broadcast_state_makes_a_new_replica_identical()
    {
        TorchRuntime.EnsureLoaded();
        var data = TrainingSlice.Value;
        var config = new TrainingConfig(BatchSizePerWorker: 16, Workers: 1, Seed: 8);
        var initial = ReplicaFactory.InitialWeights(config, data.Rows, data.Columns);
        using var trained = ReplicaFactory.Create(config, data.Rows, data.Columns, initial);
        var sampler = new DistributedSampler(data.Count, 1, config.Seed);
        var single = LoopbackRing.Form(1);
        for (var step = 0; step < 3; step++)
        {
            trained.Step(data, sampler.Batch(1, 0, step, 16), step + 1, 0, 1, 16, single[0]);
        }

        using var fresh = ReplicaFactory.Create(config, data.Rows, data.Columns, initial);
        fresh.LoadState(trained.Weights(), trained.OptimizerState());
        var next = sampler.Batch(1, 0, 3, 16);
        trained.Step(data, next, 4, 0, 1, 16, single[0]);
        fresh.Step(data, next, 4, 0, 1, 16, single[0]);
        single[0].Dispose();

        Assert.Equal(trained.Checksum(), fresh.Checksum());
        Assert.Equal(trained.OptimizerState(), fresh.OptimizerState());
    }
}
