using static TorchSharp.torch;

namespace DeepGen.Distributed.Explain;

/// <summary>
/// Deletion test of a saliency map's faithfulness. A faithful map ranks first the pixels whose replacement lowers
/// the model's confidence most, so replacing them should lower it more than replacing as many random pixels.
/// </summary>
/// <remarks>NOTE: uniformly random single pixels are not a neutral baseline. Scattered replaced pixels form a noise
/// pattern that can lower a classifier's confidence more than deleting whole regions, so compare against a random
/// map at the saliency map's resolution as well.</remarks>
public static class Faithfulness
{
    /// <summary>Mean confidence drops when <see cref="Percent"/> % of each image's pixels are replaced.</summary>
    /// <param name="Percent">Share of pixels replaced, in percent.</param>
    /// <param name="MapDrop">Mean over the batch of confidence(original) − confidence(masked) when the pixels with
    /// the highest map values are replaced.</param>
    /// <param name="RandomDrop">The same mean drop when uniformly random pixels are replaced.</param>
    public sealed record FaithfulnessResult(double Percent, double MapDrop, double RandomDrop);

    /// <summary>Measures the confidence drop for each share of replaced pixels, by map rank and at random.</summary>
    /// <param name="confidence">Maps images of the shape of <paramref name="images"/> to one confidence per image,
    /// shape [B], such as the softmax probability of the class predicted on the unmasked images. It runs under
    /// no_grad.</param>
    /// <param name="images">Images, shape [B, C, H, W] or [B, H, W]. A replaced pixel is replaced in every channel.</param>
    /// <param name="maps">Saliency maps, shape [B, h, w]. Maps smaller than the images are upsampled bilinearly
    /// (<see cref="ClassActivationMap.Upsample"/>) before ranking, and ties are broken by the lower pixel index.</param>
    /// <param name="fillValue">Value written into replaced pixels, usually the training-set mean pixel value, so that
    /// replacement removes information without adding an edge of unusual brightness.</param>
    /// <param name="percents">Shares of pixels to replace, each in [0, 100]. The pixel count is rounded to the nearest
    /// integer.</param>
    /// <param name="seed">Seed of the random pixel choice, so runs are repeatable.</param>
    /// <returns>One result per entry of <paramref name="percents"/>, in the same order.</returns>
    /// <exception cref="ArgumentException">A shape is wrong, the batch sizes differ, or a percent is outside [0, 100].</exception>
    public static IReadOnlyList<FaithfulnessResult> Measure(
        Func<Tensor, Tensor> confidence, Tensor images, Tensor maps, float fillValue,
        IReadOnlyList<double> percents, int seed)
    {
        ArgumentNullException.ThrowIfNull(confidence);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(percents);
        if (images.dim() != 3 && images.dim() != 4)
        {
            throw new ArgumentException(
                $"images have shape [{string.Join(", ", images.shape)}], but they must be [B, C, H, W] or [B, H, W].",
                nameof(images));
        }

        ClassActivationMap.RequireRank(maps, 3, "[B, h, w]", nameof(maps));
        int batch = checked((int)images.shape[0]);
        if (maps.shape[0] != batch)
        {
            throw new ArgumentException(
                $"maps have a batch of {maps.shape[0]}, but images have {batch}. Pass one map per image.", nameof(maps));
        }

        foreach (double percent in percents)
        {
            if (!(percent >= 0 && percent <= 100))
            {
                throw new ArgumentException($"percent {percent} is outside [0, 100]. Pass shares of pixels in percent.", nameof(percents));
            }
        }

        int height = checked((int)images.shape[^2]);
        int width = checked((int)images.shape[^1]);
        int pixels = height * width;

        using var noGrad = no_grad();
        int[][] ranking = RankPixels(maps, height, width);
        using var baseline = confidence(images);
        var random = new Random(seed);

        var results = new List<FaithfulnessResult>(percents.Count);
        foreach (double percent in percents)
        {
            int count = (int)Math.Round(percent / 100 * pixels, MidpointRounding.AwayFromZero);

            var mapMask = new bool[batch * pixels];
            var randomMask = new bool[batch * pixels];
            for (int image = 0; image < batch; image++)
            {
                var mapPixels = mapMask.AsSpan(image * pixels, pixels);
                for (int i = 0; i < count; i++)
                {
                    mapPixels[ranking[image][i]] = true;
                }

                MarkRandomPixels(random, randomMask.AsSpan(image * pixels, pixels), count);
            }

            double mapDrop = MeanDrop(confidence, images, baseline, mapMask, fillValue, height, width);
            double randomDrop = MeanDrop(confidence, images, baseline, randomMask, fillValue, height, width);
            results.Add(new FaithfulnessResult(percent, mapDrop, randomDrop));
        }

        return results;
    }

    // Returns, per image, the pixel indices ordered by descending map value, equal values by ascending index.
    private static int[][] RankPixels(Tensor maps, int height, int width)
    {
        using var scope = NewDisposeScope();
        var sized = maps.shape[1] == height && maps.shape[2] == width
            ? maps.alias()
            : ClassActivationMap.Upsample(maps, height, width);
        float[] values = sized.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();

        int pixels = height * width;
        int batch = values.Length / pixels;
        var ranking = new int[batch][];
        for (int image = 0; image < batch; image++)
        {
            var imageValues = values.AsSpan(image * pixels, pixels).ToArray();
            var order = Enumerable.Range(0, pixels).ToArray();

            // NaN ranks last so a broken map cannot pick pixels by accident.
            Array.Sort(order, (a, b) =>
            {
                float valueA = float.IsNaN(imageValues[a]) ? float.NegativeInfinity : imageValues[a];
                float valueB = float.IsNaN(imageValues[b]) ? float.NegativeInfinity : imageValues[b];
                int byValue = valueB.CompareTo(valueA);
                return byValue != 0 ? byValue : a.CompareTo(b);
            });
            ranking[image] = order;
        }

        return ranking;
    }

    // Marks count distinct pixels, each subset equally likely (partial Fisher-Yates shuffle).
    private static void MarkRandomPixels(Random random, Span<bool> mask, int count)
    {
        var order = new int[mask.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, order.Length);
            (order[i], order[j]) = (order[j], order[i]);
            mask[order[i]] = true;
        }
    }

    private static double MeanDrop(
        Func<Tensor, Tensor> confidence, Tensor images, Tensor baseline, bool[] mask, float fillValue, int height, int width)
    {
        using var scope = NewDisposeScope();
        int batch = (int)images.shape[0];
        var pixelMask = tensor(mask, [batch, height, width]).to(images.device);
        var broadcastMask = images.dim() == 4 ? pixelMask.unsqueeze(1) : pixelMask;
        var masked = images.masked_fill(broadcastMask, fillValue);
        var drop = baseline - confidence(masked);
        return drop.to_type(ScalarType.Float64).mean().item<double>();
    }
}
