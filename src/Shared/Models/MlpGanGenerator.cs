using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// Fully connected GAN generator that maps latent noise z to 28×28 single-channel images with pixel values in [−1, 1].
/// </summary>
/// <remarks>
/// The layers are Linear(latent, 256) + ReLU, Linear(256, 512) + ReLU, Linear(512, 784) + Tanh and a reshape to
/// [1, 28, 28]. The model has no BatchNorm and no other buffers, so every image's output depends only on its own z
/// and the weights. Data-parallel training with summed per-rank loss shares is then exactly equivalent to one worker
/// on the global batch, up to floating-point summation order. Weights keep TorchSharp's default initialisation.
/// </remarks>
public sealed class MlpGanGenerator : nn.Module<Tensor, Tensor>
{
    /// <summary>Width of the first hidden layer.</summary>
    public const int Hidden1Size = 256;

    /// <summary>Width of the second hidden layer.</summary>
    public const int Hidden2Size = 512;

    private const int PixelCount = DcganOptions.SupportedImageSize * DcganOptions.SupportedImageSize;

    private readonly Linear hidden1;
    private readonly Linear hidden2;
    private readonly Linear output;

    /// <summary>Creates the layers and registers them as <c>hidden1</c>, <c>hidden2</c> and <c>output</c>.</summary>
    /// <param name="options">Sizes, of which only <see cref="DcganOptions.LatentSize"/> changes the layers.</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> is invalid (see <see cref="DcganOptions.Validate"/>).</exception>
    public MlpGanGenerator(DcganOptions options, string name = "mlp_generator")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        hidden1 = nn.Linear(options.LatentSize, Hidden1Size);
        hidden2 = nn.Linear(Hidden1Size, Hidden2Size);
        output = nn.Linear(Hidden2Size, PixelCount);

        register_module("hidden1", hidden1);
        register_module("hidden2", hidden2);
        register_module("output", output);
    }

    /// <summary>Sizes this model was built with.</summary>
    public DcganOptions Options { get; }

    /// <summary>Generates one image per latent row.</summary>
    /// <param name="input">Latent noise z, shape [B, LatentSize], usually drawn from N(0, I).</param>
    /// <returns>Images, shape [B, 1, 28, 28], pixel values in [−1, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not [B, LatentSize].</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.shape;
        if (shape.Length != 2 || shape[1] != Options.LatentSize)
        {
            throw new ArgumentException(
                $"z has shape [{string.Join(", ", shape)}], but the generator expects [B, {Options.LatentSize}] " +
                $"because {nameof(DcganOptions.LatentSize)} is {Options.LatentSize}. Draw one row of " +
                $"{Options.LatentSize} values per image.",
                nameof(input));
        }

        using var hidden1PreActivation = hidden1.forward(input);
        using var hidden1Activation = nn.functional.relu(hidden1PreActivation);

        using var hidden2PreActivation = hidden2.forward(hidden1Activation);
        using var hidden2Activation = nn.functional.relu(hidden2PreActivation);

        using var pixelPreActivation = output.forward(hidden2Activation);
        using var pixels = pixelPreActivation.tanh();
        return pixels.reshape(-1, 1, DcganOptions.SupportedImageSize, DcganOptions.SupportedImageSize);
    }
}
