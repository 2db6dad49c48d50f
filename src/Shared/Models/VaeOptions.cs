namespace DeepGen.Distributed.Models;

/// <summary>Layer sizes of a <see cref="Vae"/>.</summary>
/// <param name="InputSize">Number of pixels per flattened image (784 for 28×28 Fashion-MNIST).</param>
/// <param name="HiddenSize">Width of the hidden layer in both the encoder and the decoder.</param>
/// <param name="LatentSize">Dimension of the latent code z.</param>
public sealed record VaeOptions(int InputSize = 784, int HiddenSize = 400, int LatentSize = 20)
{
    /// <summary>Checks that every layer size is at least 1.</summary>
    /// <exception cref="ArgumentException">A size is zero or negative.</exception>
    public void Validate()
    {
        RequirePositive(InputSize, nameof(InputSize));
        RequirePositive(HiddenSize, nameof(HiddenSize));
        RequirePositive(LatentSize, nameof(LatentSize));
    }

    private static void RequirePositive(int size, string name)
    {
        if (size < 1)
        {
            throw new ArgumentException(
                $"{name} is {size}, but a layer needs at least 1 unit. Set {name} to 1 or more.", name);
        }
    }
}
