using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Training;

/// <summary>
/// Moves BatchNorm running statistics in and out of an all-reduce buffer. Each replica updates
/// them from its own batches; averaging them after every step keeps all replicas identical.
/// </summary>
public static class RunningStatistics
{
    /// <summary>Copies every buffer, in order, into <paramref name="destination"/>.</summary>
    public static void CopyTo(IReadOnlyList<Tensor> buffers, Span<float> destination)
    {
        var offset = 0;
        foreach (var buffer in buffers)
        {
            var values = MemoryMarshal.Cast<byte, float>(buffer.bytes);
            values.CopyTo(destination.Slice(offset, values.Length));
            offset += values.Length;
        }
    }

    /// <summary>Writes <paramref name="sums"/> ÷ <paramref name="worldSize"/> back into the buffers: the mean over ranks.</summary>
    public static void AverageFrom(IReadOnlyList<Tensor> buffers, ReadOnlySpan<float> sums, int worldSize)
    {
        var offset = 0;
        foreach (var buffer in buffers)
        {
            var target = MemoryMarshal.Cast<byte, float>(buffer.bytes);
            for (var i = 0; i < target.Length; i++)
            {
                target[i] = sums[offset + i] / worldSize;
            }

            offset += target.Length;
        }
    }
}
