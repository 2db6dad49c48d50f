using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// DCGAN discriminator that maps 28×28 single-channel images to one logit each, where sigmoid(logit) is the
/// probability that the image is real.
/// </summary>
/// <remarks>
/// <para>The layers are Conv2d(1, 64, kernel 4, stride 2, padding 1) to [64, 14, 14] and LeakyReLU(0.2), then
/// Conv2d(64, 128, kernel 4, stride 2, padding 1) to [128, 7, 7], BatchNorm2d(128) and LeakyReLU(0.2), then a
/// flatten and Linear(128·7·7, 1). Weights keep TorchSharp's default initialisation.</para>
/// <para>Buffer contract: the BatchNorm layer contains <c>running_mean</c>, <c>running_var</c> and
/// <c>num_batches_tracked</c>, which are this module's <c>buffers()</c>. The discriminator step runs the real and
/// the generated batch in separate forward passes, so in train mode the running statistics are updated once from
/// each batch. The generator step updates them again when it runs the discriminator in train mode. They are not gradients, so gradient averaging does not synchronise them. In data-parallel training the
/// trainer must keep them identical across replicas by averaging the floating-point buffers
/// (<see cref="ModuleBuffers.FloatBuffers"/>) across ranks after each iteration.</para>
/// </remarks>
public sealed class DcganDiscriminator : nn.Module<Tensor, Tensor>
{
    /// <summary>Channels of the feature map that <see cref="Features"/> returns.</summary>
    public const int FeatureChannels = 128;

    /// <summary>Height and width of the feature map that <see cref="Features"/> returns.</summary>
    public const int FeatureSize = 7;

    private const int HiddenChannels = 64;
    private const double LeakySlope = 0.2;

    private readonly Conv2d downsample1;
    private readonly Conv2d downsample2;
    private readonly BatchNorm2d downsample2Norm;
    private readonly Linear classify;

    /// <summary>Creates the layers and registers them as <c>downsample1</c>, <c>downsample2</c>,
    /// <c>downsample2_norm</c> and <c>classify</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="options"/> is invalid (see <see cref="DcganOptions.Validate"/>).</exception>
    public DcganDiscriminator(DcganOptions options, string name = "dcgan_discriminator")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        downsample1 = nn.Conv2d(1, HiddenChannels, kernel_size: 4, stride: 2, padding: 1);
        downsample2 = nn.Conv2d(HiddenChannels, FeatureChannels, kernel_size: 4, stride: 2, padding: 1);
        downsample2Norm = nn.BatchNorm2d(FeatureChannels);
        classify = nn.Linear(FeatureChannels * FeatureSize * FeatureSize, 1);

        register_module("downsample1", downsample1);
        register_module("downsample2", downsample2);
        register_module("downsample2_norm", downsample2Norm);
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
        using var features = Features(input);
        return Classify(features);
    }

    /// <summary>Applies the final flatten and linear layer to the output of <see cref="Features"/>, so that Grad-CAM
    /// can compute the logit from a feature map it differentiates.</summary>
    /// <param name="features">Feature map, shape [B, 128, 7, 7].</param>
    /// <returns>Logits, shape [B, 1], the same as <see cref="forward"/> returns for the images behind
    /// <paramref name="features"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="features"/> is not [B, 128, 7, 7].</exception>
    public Tensor Classify(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var shape = features.shape;
        if (shape.Length != 4 || shape[1] != FeatureChannels || shape[2] != FeatureSize || shape[3] != FeatureSize)
        {
            throw new ArgumentException(
                $"features have shape [{string.Join(", ", shape)}], but the classification layer expects " +
                $"[B, {FeatureChannels}, {FeatureSize}, {FeatureSize}], the output of Features.",
                nameof(features));
        }

        using var flattened = features.flatten(1);
        return classify.forward(flattened);
    }

    /// <summary>Computes the activation of the last convolution block, after its BatchNorm and LeakyReLU, which
    /// is the layer that Grad-CAM weights by the gradient of the logit.</summary>
    /// <param name="images">Images, shape [B, 1, 28, 28], pixel values in [−1, 1].</param>
    /// <returns>Feature map, shape [B, 128, 7, 7], attached to the autograd graph.</returns>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not [B, 1, 28, 28].</exception>
    public Tensor Features(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var shape = images.shape;
        var imageSize = Options.ImageSize;
        if (shape.Length != 4 || shape[1] != 1 || shape[2] != imageSize || shape[3] != imageSize)
        {
            throw new ArgumentException(
                $"images have shape [{string.Join(", ", shape)}], but the discriminator expects [B, 1, {imageSize}, {imageSize}]. " +
                $"Reshape flattened images to one channel of {imageSize}×{imageSize} pixels.",
                nameof(images));
        }

        using var downsampled1 = downsample1.forward(images);
        using var activation1 = nn.functional.leaky_relu(downsampled1, LeakySlope);

        using var downsampled2 = downsample2.forward(activation1);
        using var normalized2 = downsample2Norm.forward(downsampled2);
        return nn.functional.leaky_relu(normalized2, LeakySlope);
    }
}
