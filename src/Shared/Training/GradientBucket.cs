using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Training;

/// <summary>
/// One contiguous fp32 buffer holding every parameter's gradient, followed by a few extra slots
/// (loss terms) that are reduced together with the gradients at no extra round trip.
/// Gradients are copied through <see cref="Tensor.bytes"/>, the tensor's native memory, with no
/// per-element calls into libtorch. A last slot, <see cref="Control"/>, carries a control flag
/// that every rank learns the sum of when the bucket is reduced.
/// </summary>
public sealed class GradientBucket
{
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> _parameters;
    private readonly int _gradientLength;
    private readonly int _extraSlots;

    /// <param name="extraSlots">Number of values appended after the gradients.</param>
    public GradientBucket(IEnumerable<TorchSharp.Modules.Parameter> parameters, int extraSlots)
    {
        _parameters = parameters.ToList();
        _gradientLength = checked((int)_parameters.Sum(p => p.numel()));
        _extraSlots = extraSlots;
        Buffer = new float[_gradientLength + extraSlots + 1];
    }

    /// <summary>Gradients, then the extra slots, then the control slot.</summary>
    public float[] Buffer { get; }

    /// <summary>The extra slots after the gradients.</summary>
    public Span<float> Extras => Buffer.AsSpan(_gradientLength, _extraSlots);

    /// <summary>
    /// The last value of <see cref="Buffer"/>: before the all-reduce, this rank's flag; after it, the
    /// sum over ranks. Ranks use it to agree on stopping at the same iteration boundary.
    /// </summary>
    public ref float Control => ref Buffer[^1];

    /// <summary>Copies the current gradients into <see cref="Buffer"/>; a parameter without a gradient contributes zeros.</summary>
    public void Gather()
    {
        var offset = 0;
        foreach (var parameter in _parameters)
        {
            var length = (int)parameter.numel();
            var destination = MemoryMarshal.AsBytes(Buffer.AsSpan(offset, length));
            using var gradient = parameter.grad;
            if (gradient is null)
            {
                destination.Clear();
            }
            else
            {
                using var contiguous = gradient.contiguous();
                contiguous.bytes.CopyTo(destination);
            }

            offset += length;
        }
    }

    /// <summary>Writes <see cref="Buffer"/> back into the parameters' gradients.</summary>
    /// <exception cref="InvalidOperationException">A parameter has no gradient tensor (backward did not reach it).</exception>
    public void Scatter()
    {
        var offset = 0;
        foreach (var parameter in _parameters)
        {
            var length = (int)parameter.numel();
            using var gradient = parameter.grad
                ?? throw new InvalidOperationException("A parameter has no gradient; run backward on every rank before the all-reduce, even for an empty batch.");
            if (!gradient.is_contiguous())
            {
                throw new InvalidOperationException("Gradients must be contiguous to be written in place.");
            }

            MemoryMarshal.AsBytes(Buffer.AsSpan(offset, length)).CopyTo(gradient.bytes);
            offset += length;
        }
    }
}
