namespace DeepGen.Distributed.Models;

/// <summary>Layer sizes of an <see cref="Autoencoder"/>.</summary>
/// <param name="InputSize">Number of pixels per flattened image (784 for 28×28 Fashion-MNIST).</param>
/// <param name="LatentSize">Dimension m of the code z.</param>
public sealed record AutoencoderOptions(int InputSize = 784, int LatentSize = 64)
{
    /// <summary>Largest size accepted for either layer, which keeps one weight matrix at most 16384² float32 values (1 GiB).</summary>
    public const int MaxSize = 16384;

    /// <summary>Checks that both sizes are in 1..<see cref="MaxSize"/>.</summary>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public void Validate()
    {
        RequireInRange(InputSize, nameof(InputSize));
        RequireInRange(LatentSize, nameof(LatentSize));
    }

    private static void RequireInRange(int size, string name)
    {
        if (size < 1 || size > MaxSize)
        {
            throw new ArgumentException(
                $"{name} is {size}, but a layer needs 1 to {MaxSize} units. Set {name} to a value in that range.", name);
        }
    }
}
