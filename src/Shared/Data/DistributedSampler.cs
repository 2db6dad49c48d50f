namespace DeepGen.Distributed.Data;

/// <summary>
/// Splits each epoch's shuffled sample order between the ranks of a data-parallel run.
/// </summary>
/// <remarks>
/// <para>
/// Every epoch has one permutation of 0..n-1 that depends only on (seed, epoch). The shuffle is a Fisher-Yates
/// shuffle driven by SplitMix64 and Lemire's bounded integers, both implemented here, so the order is the same
/// in every process, on every machine and under every .NET version (System.Random promises none of that).
/// </para>
/// <para>
/// Rank r's shard is interleaved: <c>perm[r], perm[r + world], perm[r + 2·world], …</c>. Shard sizes differ by at
/// most one, and the shards together contain every sample exactly once. Nothing is padded or repeated, so when n
/// is not divisible by the world size some ranks get one sample fewer, and a rank r ≥ n gets none.
/// </para>
/// <para>
/// Batch <c>s</c> of rank r is <c>shard[s·b .. (s+1)·b)</c> for a per-rank batch size b. Because of the
/// interleaving, the union of all ranks' batches at step s is exactly the contiguous slice
/// <c>perm[s·b·world .. min((s+1)·b·world, n))</c>, which is batch s of a single worker with batch size
/// b·world. With gradients averaged over the global batch (each rank weighted by its batch size), N workers
/// therefore see the same samples per step as one worker and can reproduce its training.
/// </para>
/// <para>Instances are thread-safe.</para>
/// </remarks>
public sealed class DistributedSampler
{
    private readonly int seed;

    // The last permutation built, because Batch is called once per step with the same epoch.
    private CachedPermutation? cached;

    /// <summary>Creates a sampler for a dataset of <paramref name="datasetSize"/> samples split between <paramref name="worldSize"/> ranks.</summary>
    /// <param name="datasetSize">Number of samples n, at least 1.</param>
    /// <param name="worldSize">Number of ranks, at least 1.</param>
    /// <param name="seed">Shuffle seed; every rank of one run must use the same value.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="datasetSize"/> or <paramref name="worldSize"/> is below 1.</exception>
    public DistributedSampler(int datasetSize, int worldSize, int seed)
    {
        if (datasetSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize,
                $"Dataset size must be at least 1, but is {datasetSize}.");
        }

        if (worldSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize,
                $"World size (number of ranks) must be at least 1, but is {worldSize}.");
        }

        DatasetSize = datasetSize;
        WorldSize = worldSize;
        this.seed = seed;
    }

    /// <summary>Number of samples n.</summary>
    public int DatasetSize { get; }

    /// <summary>Number of ranks.</summary>
    public int WorldSize { get; }

    /// <summary>Returns the epoch's shuffled order of 0..n-1, a function of (seed, epoch) only.</summary>
    /// <returns>A new array the caller may modify.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public int[] Permutation(int epoch) => (int[])GetPermutation(epoch).Clone();

    /// <summary>Returns rank <paramref name="rank"/>'s samples for the epoch: <c>perm[rank], perm[rank + world], …</c>.</summary>
    /// <returns>ceil((n - rank) / world) indices; empty when rank ≥ n.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative or <paramref name="rank"/> is outside 0..world-1.</exception>
    public int[] Shard(int epoch, int rank)
    {
        CheckRank(rank);
        int[] permutation = GetPermutation(epoch);

        var shard = new int[ShardSize(rank)];
        for (int k = 0; k < shard.Length; k++)
        {
            shard[k] = permutation[rank + (k * WorldSize)];
        }

        return shard;
    }

    /// <summary>Returns the number of steps in an epoch, ceil(ceil(n / world) / <paramref name="batchPerRank"/>), the same for every rank.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchPerRank"/> is below 1.</exception>
    public int StepsPerEpoch(int batchPerRank)
    {
        CheckBatchSize(batchPerRank);
        int largestShard = ShardSize(0);
        return (int)(((long)largestShard + batchPerRank - 1) / batchPerRank);
    }

    /// <summary>
    /// Returns rank <paramref name="rank"/>'s batch at <paramref name="step"/>: <c>shard[step·b .. min((step+1)·b, shard length))</c>.
    /// On the last step a short shard may give a smaller or empty batch.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="epoch"/> is negative, <paramref name="rank"/> is outside 0..world-1,
    /// <paramref name="batchPerRank"/> is below 1, or <paramref name="step"/> is outside 0..StepsPerEpoch-1.
    /// </exception>
    public int[] Batch(int epoch, int rank, int step, int batchPerRank)
    {
        CheckRank(rank);
        CheckStep(step, batchPerRank);
        int[] permutation = GetPermutation(epoch);

        int size = BatchSize(rank, step, batchPerRank);
        var batch = new int[size];
        long first = (long)step * batchPerRank;
        for (int k = 0; k < size; k++)
        {
            batch[k] = permutation[rank + ((first + k) * WorldSize)];
        }

        return batch;
    }

    /// <summary>
    /// Returns the sum over all ranks of the batch sizes at <paramref name="step"/>, which is the same in every epoch:
    /// b·world on every step but the last, and what is left of n on the last.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="batchPerRank"/> is below 1 or <paramref name="step"/> is outside 0..StepsPerEpoch-1.
    /// </exception>
    public int GlobalBatchSize(int step, int batchPerRank)
    {
        CheckStep(step, batchPerRank);

        int total = 0;
        for (int rank = 0; rank < WorldSize; rank++)
        {
            total += BatchSize(rank, step, batchPerRank);
        }

        return total;
    }

    /// <summary>
    /// Returns rank <paramref name="rank"/>'s batch of the step that starts at <paramref name="position"/> of the
    /// epoch's permutation, in a world of <paramref name="worldSize"/> ranks: <c>perm[position + rank + k·world]</c>
    /// for k below <paramref name="batchPerRank"/>, stopping at the end of the permutation.
    /// </summary>
    /// <remarks>
    /// The step consumes the contiguous slice <c>perm[position .. position + GlobalBatchAt)</c>, so a run whose
    /// world size changes mid-epoch continues with the samples not yet seen, each exactly once. With a constant
    /// world size this gives the same batches as <see cref="Batch"/> (position = step·b·world).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range: position 0..n-1, rank 0..worldSize-1, sizes at least 1.</exception>
    public int[] BatchAt(int epoch, long position, int rank, int worldSize, int batchPerRank)
    {
        CheckPosition(position, rank, worldSize, batchPerRank);
        int[] permutation = GetPermutation(epoch);
        var size = (int)Math.Clamp((DatasetSize - position - rank + worldSize - 1) / worldSize, 0, batchPerRank);
        var batch = new int[size];
        for (int k = 0; k < size; k++)
        {
            batch[k] = permutation[position + rank + ((long)k * worldSize)];
        }

        return batch;
    }

    /// <summary>Returns the images in the step that starts at <paramref name="position"/>: min(b·world, n − position).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    public int GlobalBatchAt(long position, int worldSize, int batchPerRank)
    {
        CheckPosition(position, 0, worldSize, batchPerRank);
        return (int)Math.Min((long)batchPerRank * worldSize, DatasetSize - position);
    }

    private void CheckPosition(long position, int rank, int worldSize, int batchPerRank)
    {
        CheckBatchSize(batchPerRank);
        if (worldSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, $"World size must be at least 1, but is {worldSize}.");
        }

        if (rank < 0 || rank >= worldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Rank must be from 0 to {worldSize - 1}, but is {rank}.");
        }

        if (position < 0 || position >= DatasetSize)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"Position must be from 0 to {DatasetSize - 1}, but is {position}.");
        }
    }

    private int ShardSize(int rank) => rank >= DatasetSize ? 0 : ((DatasetSize - rank - 1) / WorldSize) + 1;

    private int BatchSize(int rank, int step, int batchPerRank)
    {
        long remaining = ShardSize(rank) - ((long)step * batchPerRank);
        return (int)Math.Clamp(remaining, 0, batchPerRank);
    }

    private int[] GetPermutation(int epoch)
    {
        if (epoch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"Epoch must be 0 or more, but is {epoch}.");
        }

        var current = Volatile.Read(ref cached);
        if (current is not null && current.Epoch == epoch)
        {
            return current.Indices;
        }

        int[] permutation = Shuffle(DatasetSize, seed, epoch);
        Volatile.Write(ref cached, new CachedPermutation(epoch, permutation));
        return permutation;
    }

    /// <summary>Fisher-Yates shuffle of 0..n-1 from a SplitMix64 stream seeded with (seed, epoch).</summary>
    private static int[] Shuffle(int n, int seed, int epoch)
    {
        var permutation = new int[n];
        for (int i = 0; i < n; i++)
        {
            permutation[i] = i;
        }

        var random = new SplitMix64(((ulong)(uint)seed << 32) | (uint)epoch);
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.NextBelow((uint)i + 1);
            (permutation[i], permutation[j]) = (permutation[j], permutation[i]);
        }

        return permutation;
    }

    private void CheckRank(int rank)
    {
        if (rank < 0 || rank >= WorldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank,
                $"Rank must be between 0 and {WorldSize - 1} for world size {WorldSize}, but is {rank}.");
        }
    }

    private static void CheckBatchSize(int batchPerRank)
    {
        if (batchPerRank < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchPerRank), batchPerRank,
                $"Batch size per rank must be at least 1, but is {batchPerRank}.");
        }
    }

    private void CheckStep(int step, int batchPerRank)
    {
        int steps = StepsPerEpoch(batchPerRank);
        if (step < 0 || step >= steps)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step,
                $"Step must be between 0 and {steps - 1} ({steps} steps per epoch at batch size {batchPerRank} " +
                $"per rank), but is {step}.");
        }
    }

    private sealed record CachedPermutation(int Epoch, int[] Indices);

    /// <summary>
    /// SplitMix64 generator: a 64-bit counter advanced by the golden-ratio constant 0x9E3779B97F4A7C15, with each
    /// value passed through a fixed mixing function. Its output depends only on the seed.
    /// </summary>
    private struct SplitMix64(ulong state)
    {
        private ulong state = state;

        public ulong Next()
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Returns a uniform integer in 0..bound-1 by Lemire's multiply-and-reject method, without modulo bias.</summary>
        public int NextBelow(uint bound)
        {
            ulong product = (ulong)(uint)(Next() >> 32) * bound;
            uint low = (uint)product;
            if (low < bound)
            {
                uint threshold = (0u - bound) % bound;
                while (low < threshold)
                {
                    product = (ulong)(uint)(Next() >> 32) * bound;
                    low = (uint)product;
                }
            }

            return (int)(product >> 32);
        }
    }
}
