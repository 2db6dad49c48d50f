using DeepGen.Distributed.Data;

namespace DeepGen.Distributed.Tests.Data;

public sealed class DistributedSamplerTests
{
    public static TheoryData<int, int> Sizes => new()
    {
        { 10, 3 },
        { 7, 4 },
        { 60_000, 2 },
        { 1, 3 },
        { 12, 1 },
        { 9, 9 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Permutation_contains_every_index_once(int n, int world)
    {
        var sampler = new DistributedSampler(n, world, seed: 42);

        int[] permutation = sampler.Permutation(epoch: 0);

        Assert.Equal(Enumerable.Range(0, n), permutation.Order());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Shards_are_disjoint_and_complete(int n, int world)
    {
        var sampler = new DistributedSampler(n, world, seed: 7);

        var shards = Enumerable.Range(0, world).Select(rank => sampler.Shard(epoch: 3, rank)).ToArray();
        int[] all = shards.SelectMany(shard => shard).ToArray();

        Assert.Equal(n, all.Length);
        Assert.Equal(n, all.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, n), all.Order());
        Assert.InRange(shards.Max(shard => shard.Length) - shards.Min(shard => shard.Length), 0, 1);
    }

    [Fact]
    public void Shard_interleaves_the_permutation()
    {
        var sampler = new DistributedSampler(10, 3, seed: 5);
        int[] permutation = sampler.Permutation(epoch: 1);

        Assert.Equal(new[] { permutation[0], permutation[3], permutation[6], permutation[9] }, sampler.Shard(1, 0));
        Assert.Equal(new[] { permutation[1], permutation[4], permutation[7] }, sampler.Shard(1, 1));
        Assert.Equal(new[] { permutation[2], permutation[5], permutation[8] }, sampler.Shard(1, 2));
    }

    [Fact]
    public void Rank_beyond_dataset_gets_empty_shard()
    {
        var sampler = new DistributedSampler(1, 3, seed: 0);

        Assert.Equal([0], sampler.Shard(0, 0));
        Assert.Empty(sampler.Shard(0, 1));
        Assert.Empty(sampler.Shard(0, 2));
        Assert.Empty(sampler.Batch(0, 2, 0, 4));
    }

    [Fact]
    public void Different_epochs_give_different_orders()
    {
        var sampler = new DistributedSampler(1000, 2, seed: 42);

        Assert.NotEqual(sampler.Permutation(0), sampler.Permutation(1));
        Assert.NotEqual(sampler.Permutation(1), sampler.Permutation(2));
    }

    [Fact]
    public void Same_seed_gives_same_order()
    {
        var first = new DistributedSampler(1000, 4, seed: 42);
        var second = new DistributedSampler(1000, 4, seed: 42);

        Assert.Equal(first.Permutation(5), second.Permutation(5));
        Assert.Equal(first.Shard(5, 3), second.Shard(5, 3));
    }

    [Fact]
    public void Different_seed_gives_different_order()
    {
        var first = new DistributedSampler(1000, 4, seed: 42);
        var second = new DistributedSampler(1000, 4, seed: 43);

        Assert.NotEqual(first.Permutation(0), second.Permutation(0));
    }

    [Fact]
    public void Permutation_is_pinned_for_seed_and_epoch()
    {
        // A change to the generator or the shuffle changes every run's sample order, so it must fail here.
        var sampler = new DistributedSampler(10, 1, seed: 1234);

        Assert.Equal(PinnedPermutation, sampler.Permutation(epoch: 2));
    }

    private static readonly int[] PinnedPermutation = [3, 4, 6, 9, 2, 1, 7, 5, 8, 0];

    [Fact]
    public void Permutation_returns_a_copy()
    {
        var sampler = new DistributedSampler(5, 1, seed: 0);
        int[] first = sampler.Permutation(0);
        int[] expected = (int[])first.Clone();

        first[0] = -1;

        Assert.Equal(expected, sampler.Permutation(0));
    }

    [Theory]
    [InlineData(10, 3, 2)]
    [InlineData(7, 4, 1)]
    [InlineData(60_000, 2, 64)]
    [InlineData(1, 3, 4)]
    [InlineData(100, 3, 5)]
    public void Union_of_rank_batches_matches_one_worker(int n, int world, int batchPerRank)
    {
        var sampler = new DistributedSampler(n, world, seed: 11);
        var single = new DistributedSampler(n, 1, seed: 11);
        int steps = sampler.StepsPerEpoch(batchPerRank);

        Assert.Equal(single.StepsPerEpoch(batchPerRank * world), steps);
        for (int step = 0; step < steps; step++)
        {
            int[] union = Enumerable.Range(0, world)
                .SelectMany(rank => sampler.Batch(epoch: 2, rank, step, batchPerRank))
                .Order()
                .ToArray();
            int[] oneWorker = single.Batch(epoch: 2, rank: 0, step, batchPerRank * world).Order().ToArray();

            Assert.Equal(oneWorker, union);
            Assert.Equal(oneWorker.Length, sampler.GlobalBatchSize(step, batchPerRank));
        }
    }

    [Fact]
    public void Batch_is_a_slice_of_the_shard()
    {
        var sampler = new DistributedSampler(10, 3, seed: 9);
        int[] shard = sampler.Shard(0, 0);

        Assert.Equal(shard[..3], sampler.Batch(0, 0, 0, 3));
        Assert.Equal(shard[3..], sampler.Batch(0, 0, 1, 3));
        Assert.Equal(2, sampler.Batch(0, 1, 0, 2).Length);
        Assert.Single(sampler.Batch(0, 1, 1, 2));
    }

    [Theory]
    [InlineData(10, 3, 2, 2)]
    [InlineData(10, 3, 4, 1)]
    [InlineData(7, 4, 1, 2)]
    [InlineData(60_000, 2, 64, 469)]
    [InlineData(1, 3, 4, 1)]
    [InlineData(60_000, 1, 128, 469)]
    public void StepsPerEpoch_matches_hand_computed(int n, int world, int batchPerRank, int expected)
    {
        Assert.Equal(expected, new DistributedSampler(n, world, seed: 0).StepsPerEpoch(batchPerRank));
    }

    [Theory]
    [InlineData(10, 3, 2, 0, 6)]
    [InlineData(10, 3, 2, 1, 4)]
    [InlineData(7, 4, 1, 0, 4)]
    [InlineData(7, 4, 1, 1, 3)]
    [InlineData(60_000, 2, 64, 0, 128)]
    [InlineData(60_000, 2, 64, 468, 96)]
    [InlineData(1, 3, 4, 0, 1)]
    public void GlobalBatchSize_matches_hand_computed(int n, int world, int batchPerRank, int step, int expected)
    {
        Assert.Equal(expected, new DistributedSampler(n, world, seed: 0).GlobalBatchSize(step, batchPerRank));
    }

    [Theory]
    [InlineData(0, 1, "datasetSize")]
    [InlineData(-3, 1, "datasetSize")]
    [InlineData(10, 0, "worldSize")]
    public void Constructor_rejects_invalid_sizes(int n, int world, string parameter)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(n, world, seed: 0));

        Assert.Equal(parameter, error.ParamName);
        Assert.Contains(parameter == "datasetSize" ? $"is {n}." : $"is {world}.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Arguments_outside_range_are_rejected()
    {
        var sampler = new DistributedSampler(10, 3, seed: 0);

        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Permutation(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Shard(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Shard(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.StepsPerEpoch(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Batch(0, 0, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.GlobalBatchSize(-1, 2));
    }
}
