using DeepGen.Distributed.Data;

namespace DeepGen.Distributed.Tests.Data;

/// <summary>Batches addressed by sample position, which let the world size change in the middle of an epoch.</summary>
public sealed class DistributedSamplerPositionTests
{
    [Theory]
    [InlineData(1000, 3, 32)]
    [InlineData(97, 4, 5)]
    [InlineData(64, 2, 32)]
    public void Position_batches_equal_step_batches_for_a_constant_world(int n, int world, int batch)
    {
        var sampler = new DistributedSampler(n, world, seed: 9);
        long position = 0;
        for (var step = 0; step < sampler.StepsPerEpoch(batch); step++)
        {
            for (var rank = 0; rank < world; rank++)
            {
                Assert.Equal(sampler.Batch(2, rank, step, batch), sampler.BatchAt(2, position, rank, world, batch));
            }

            Assert.Equal(sampler.GlobalBatchSize(step, batch), sampler.GlobalBatchAt(position, world, batch));
            position += sampler.GlobalBatchAt(position, world, batch);
        }

        Assert.Equal(n, position);
    }

    [Fact]
    public void Changing_world_uses_samples_once()
    {
        const int n = 1001;
        var sampler = new DistributedSampler(n, 3, seed: 4);
        var seen = new List<int>();
        long position = 0;
        var worlds = new[] { 3, 3, 3, 2, 2, 4, 1 };
        var index = 0;
        while (position < n)
        {
            var world = worlds[Math.Min(index++, worlds.Length - 1)];
            for (var rank = 0; rank < world; rank++)
            {
                seen.AddRange(sampler.BatchAt(0, position, rank, world, 16));
            }

            position += sampler.GlobalBatchAt(position, world, 16);
        }

        Assert.Equal(n, seen.Count);
        Assert.Equal(Enumerable.Range(0, n), seen.Order());
    }

    [Fact]
    public void Last_step_gives_each_rank_what_is_left()
    {
        var sampler = new DistributedSampler(10, 1, seed: 1);

        Assert.Equal(4, sampler.GlobalBatchAt(6, 3, 2));
        Assert.Equal(2, sampler.BatchAt(0, 6, 0, 3, 2).Length);
        Assert.Single(sampler.BatchAt(0, 6, 1, 3, 2));
        Assert.Single(sampler.BatchAt(0, 6, 2, 3, 2));
    }

    [Theory]
    [InlineData(-1, 0, 2)]
    [InlineData(10, 0, 2)]
    [InlineData(0, 2, 2)]
    [InlineData(0, 0, 0)]
    public void Out_of_range_arguments_are_rejected(long position, int rank, int world)
    {
        var sampler = new DistributedSampler(10, 1, seed: 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.BatchAt(0, position, rank, world, 4));
    }
}
