using System.Runtime.InteropServices;
using DeepGen.Distributed.Data;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Worker.Training;

/// <summary>
/// Input tensors reused across steps, one per batch size: a step copies its images into a tensor's
/// native memory instead of allocating a batch-sized array, which would land on the large-object
/// heap every step.
/// </summary>
/// <param name="shape">Tensor shape for a batch of the given number of images.</param>
internal sealed class BatchTensorCache(Func<int, long[]> shape) : IDisposable
{
    private readonly Dictionary<int, Tensor> _tensors = [];

    /// <summary>Returns the cached tensor for <paramref name="batch"/>'s size, filled with its images scaled to [0, 1].</summary>
    public Tensor Fill(ImageDataset data, ReadOnlySpan<int> batch)
    {
        if (!_tensors.TryGetValue(batch.Length, out var tensor))
        {
            tensor = empty(shape(batch.Length));
            _tensors[batch.Length] = tensor;
        }

        data.CopyNormalized(batch, MemoryMarshal.Cast<byte, float>(tensor.bytes));
        return tensor;
    }

    public void Dispose()
    {
        foreach (var tensor in _tensors.Values)
        {
            tensor.Dispose();
        }

        _tensors.Clear();
    }
}
