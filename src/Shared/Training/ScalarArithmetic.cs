using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Training;

/// <summary>
/// Tensor-by-number arithmetic that keeps the libtorch scalar alive for the whole native call.
/// </summary>
/// <remarks>
/// In TorchSharp 0.107, <c>tensor * 0.5</c> converts the number to a temporary <see cref="Scalar"/>
/// and passes only its native handle to libtorch. Nothing references the temporary after that, so
/// the garbage collector may finalize it, and free the native scalar, while libtorch still reads
/// it. libtorch then fails with "Unknown scalar type" (seen in concurrent sweep trials). Each method
/// here keeps the scalar in a <c>using</c> variable until the call has returned.
/// </remarks>
public static class ScalarArithmetic
{
    /// <summary>Returns <paramref name="tensor"/> × <paramref name="factor"/>.</summary>
    public static Tensor Times(this Tensor tensor, double factor)
    {
        using var scalar = factor.ToScalar();
        return tensor.mul(scalar);
    }

    /// <summary>Multiplies <paramref name="tensor"/> by <paramref name="factor"/> in place and returns it.</summary>
    public static Tensor TimesInPlace(this Tensor tensor, double factor)
    {
        using var scalar = factor.ToScalar();
        return tensor.mul_(scalar);
    }

    /// <summary>Adds <paramref name="value"/> to <paramref name="tensor"/> in place and returns it.</summary>
    public static Tensor PlusInPlace(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.add_(scalar);
    }

    /// <summary>Returns <paramref name="tensor"/> raised to <paramref name="exponent"/>, element-wise.</summary>
    public static Tensor Power(this Tensor tensor, double exponent)
    {
        using var scalar = exponent.ToScalar();
        return tensor.pow(scalar);
    }

    /// <summary>Returns <paramref name="tensor"/> ÷ <paramref name="divisor"/>.</summary>
    public static Tensor Over(this Tensor tensor, double divisor)
    {
        using var scalar = divisor.ToScalar();
        return tensor.div(scalar);
    }

    /// <summary>Returns a boolean tensor: <paramref name="tensor"/> &lt; <paramref name="threshold"/>, element-wise.</summary>
    public static Tensor Below(this Tensor tensor, double threshold)
    {
        using var scalar = threshold.ToScalar();
        return tensor.lt(scalar);
    }
}
