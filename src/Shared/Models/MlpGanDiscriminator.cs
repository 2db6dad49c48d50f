using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// Fully connected GAN discriminator that maps 28×28 single-channel images to one logit each, where sigmoid(logit)
/// is the probability that the image is real.
/// </summary>
/// <remarks>
/// The layers are a flatten to 784 values, Linear(784, 512) + LeakyReLU(0.2), Linear(512, 256) + LeakyReLU(0.2) and
/// Linear(256, 1). The model has no BatchNorm and no other buffers, so each image's logit depends only on that image
/// and the weights. Data-parallel training with summed per-rank loss shares is then exactly equivalent to one worker
/// on the global batch, up to floating-point summation order. Weights keep TorchSharp's default initialisation.
/// </remarks>
public sealed class MlpGanDiscriminator : nn.Module<Tensor, Tensor>
{
    /// <summary>Width of the first hidden layer.</summary>
    public const int Hidden1Size = 512;

    /// <summary>Width of the second hidden layer.</summary>
    public const int Hidden2Size = 256;

    private const int PixelCount = DcganOptions.SupportedImageSize * DcganOptions.SupportedImageSize;
    private const double LeakySlope = 0.2;

    private readonly Linear hidden1;
    private readonly Linear hidden2;
    private readonly Linear classify;

    /// <summary>Creates the layers and registers them as <c>hidden1</c>, <c>hidden2</c> and <c>classify</c>.</summary>
    /// <param name="options">Sizes, validated only, because the layers do not depend on <see cref="DcganOptions.LatentSize"/>.</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> is invalid (see <see cref="DcganOptions.Validate"/>).</exception>
    public MlpGanDiscriminator(DcganOptions options, string name = "mlp_discriminator")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        hidden1 = nn.Linear(PixelCount, Hidden1Size);
        hidden2 = nn.Linear(Hidden1Size, Hidden2Size);
        classify = nn.Linear(Hidden2Size, 1);

        register_module("hidden1", hidden1);
        register_module("hidden2", hidden2);
        register_module("classify", classify);
    }

    /// <summary>Sizes this model was built with.</summary>
    public DcganOptions Options { get; }

    /// <summary>Scores a batch of images.</summary>
    /// <param name="input">Images, shape [B, 1, 28, 28], pixel values in [−1, 1].</param>
    /// <returns>Logits, shape [B, 1]. A positive logit means the discriminator rates the image as more likely real
    /// than generated.</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not [B, 1, 28, 28].</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.shape;
        var imageSize = DcganOptions.SupportedImageSize;
        if (shape.Length != 4 || shape[1] != 1 || shape[2] != imageSize || shape[3] != imageSize)
        {
            throw new ArgumentException(
                $"images have shape [{string.Join(", ", shape)}], but the discriminator expects [B, 1, {imageSize}, {imageSize}]. " +
                $"Reshape flattened images to one channel of {imageSize}×{imageSize} pixels.",
                nameof(input));
        }

        using var flattened = input.flatten(1);

        using var hidden1PreActivation = hidden1.forward(flattened);
        using var hidden1Activation = nn.functional.leaky_relu(hidden1PreActivation, LeakySlope);

        using var hidden2PreActivation = hidden2.forward(hidden1Activation);
        using var hidden2Activation = nn.functional.leaky_relu(hidden2PreActivation, LeakySlope);

        return classify.forward(hidden2Activation);
    }
}
