namespace DeepGen.Distributed.Models;

/// <summary>Sizes of a <see cref="ClassifierCnn"/>.</summary>
/// <param name="Classes">Number of classes, the width of the logits (10 for Fashion-MNIST).</param>
/// <param name="Channels1">Output channels of the first convolution block.</param>
/// <param name="Channels2">Output channels of the second convolution block.</param>
/// <param name="Channels3">Output channels of the last convolution block, which is also the width of
/// <see cref="ClassifierCnn.Embed"/> and the number of feature maps a Class Activation Map sums.</param>
public sealed record ClassifierOptions(int Classes = 10, int Channels1 = 32, int Channels2 = 64, int Channels3 = 128)
{
    /// <summary>Largest class or channel count accepted.</summary>
    public const int MaxSize = 16384;

    /// <summary>Checks that every size is in 1..<see cref="MaxSize"/>.</summary>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public void Validate()
    {
        RequireInRange(Classes, nameof(Classes));
        RequireInRange(Channels1, nameof(Channels1));
        RequireInRange(Channels2, nameof(Channels2));
        RequireInRange(Channels3, nameof(Channels3));
    }

    private static void RequireInRange(int size, string name)
    {
        if (size < 1 || size > MaxSize)
        {
            throw new ArgumentException(
                $"{name} is {size}, but it must be in 1 to {MaxSize}. Set {name} to a value in that range.", name);
        }
    }
}
