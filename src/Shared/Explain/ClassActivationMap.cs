using static TorchSharp.torch;

namespace DeepGen.Distributed.Explain;

/// <summary>
/// Class Activation Maps (CAM) for a network whose last convolution feeds global average pooling (GAP) and one
/// linear layer: CAM_c(x, y) = Σ_k w_k^c f_k(x, y), where f_k is channel k of the last feature map and w_k^c the
/// linear weight from channel k to class c.
/// </summary>
public static class ClassActivationMap
{
    /// <summary>Computes the Class Activation Map of one class for a batch of feature maps.</summary>
    /// <param name="features">Last convolutional feature maps f_k, shape [B, K, H, W].</param>
    /// <param name="classifierWeight">Weight of the linear layer after GAP, shape [classes, K].</param>
    /// <param name="classIndex">Class c, in 0..classes − 1.</param>
    /// <returns>Maps, shape [B, H, W]. The result is attached to the autograd graph when an input is.</returns>
    /// <exception cref="ArgumentException">A shape is wrong or the channel counts differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classIndex"/> is not a row of the weight.</exception>
    public static Tensor Compute(Tensor features, Tensor classifierWeight, long classIndex)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(classifierWeight);
        RequireRank(features, 4, "[B, K, H, W]", nameof(features));
        RequireRank(classifierWeight, 2, "[classes, K]", nameof(classifierWeight));

        long channels = features.shape[1];
        if (classifierWeight.shape[1] != channels)
        {
            throw new ArgumentException(
                $"classifierWeight has {classifierWeight.shape[1]} columns, but features have {channels} channels. " +
                "Pass the weight of the linear layer that follows global average pooling of these features.",
                nameof(classifierWeight));
        }

        long classes = classifierWeight.shape[0];
        if (classIndex < 0 || classIndex >= classes)
        {
            throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex,
                $"classIndex must be in 0 to {classes - 1}, the rows of classifierWeight.");
        }

        // Weight row c as [1, K, 1, 1] broadcasts over batch and space, so the channel sum gives Σ_k w_k^c f_k(x, y).
        using var row = classifierWeight[classIndex];
        using var channelWeights = row.reshape(1, channels, 1, 1);
        using var weighted = features * channelWeights;
        return weighted.sum(1);
    }

    /// <summary>
    /// Upsamples maps bilinearly to the input resolution, with align_corners = false.
    /// </summary>
    /// <remarks>
    /// With align_corners = false the map cells and the image pixels are squares covering the same area, so the
    /// centre of cell (i, j) of an h×w map lands on input pixel coordinates ((i + 0.5)·height/h − 0.5,
    /// (j + 0.5)·width/w − 0.5). For a 7×7 map and a 28×28 image, cell (i, j) covers pixels 4i..4i + 3 and
    /// 4j..4j + 3, and its centre lies between pixels 4i + 1 and 4i + 2. Outside the outermost cell centres the
    /// values are clamped to the border cells.
    /// </remarks>
    /// <param name="maps">Maps, shape [B, h, w].</param>
    /// <param name="height">Output height in pixels, at least 1.</param>
    /// <param name="width">Output width in pixels, at least 1.</param>
    /// <returns>Upsampled maps, shape [B, height, width].</returns>
    /// <exception cref="ArgumentException"><paramref name="maps"/> is not [B, h, w].</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static Tensor Upsample(Tensor maps, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(maps);
        RequireRank(maps, 3, "[B, h, w]", nameof(maps));
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);

        using var channel = maps.unsqueeze(1);
        using var upsampled = nn.functional.interpolate(
            channel, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
        return upsampled.squeeze(1);
    }

    internal static void RequireRank(Tensor tensor, int rank, string expected, string name)
    {
        if (tensor.dim() != rank)
        {
            throw new ArgumentException(
                $"{name} has shape [{string.Join(", ", tensor.shape)}], but it must be {expected}.", name);
        }
    }
}
