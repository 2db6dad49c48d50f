using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// DCGAN generator that maps latent noise z to 28×28 single-channel images with pixel values in [−1, 1].
/// </summary>
/// <remarks>
/// <para>The layers are Linear(latent, 128·7·7), BatchNorm1d(128·7·7) and ReLU, a reshape to [128, 7, 7],
/// ConvTranspose2d(128, 64, kernel 4, stride 2, padding 1) to [64, 14, 14], BatchNorm2d(64) and ReLU, then
/// ConvTranspose2d(64, 1, kernel 4, stride 2, padding 1) to [1, 28, 28] and Tanh. Weights keep TorchSharp's
/// default initialisation.</para>
/// <para>Buffer contract: the two BatchNorm layers contain <c>running_mean</c>, <c>running_var</c> and
/// <c>num_batches_tracked</c>, which are this module's <c>buffers()</c>. Each train-mode forward updates them from
/// the local batch. They are not gradients, so gradient averaging does not synchronise them. In data-parallel
/// training the trainer must keep them identical across replicas by averaging the floating-point buffers
/// (<see cref="ModuleBuffers.FloatBuffers"/>) across ranks after each iteration.</para>
/// </remarks>
public sealed class DcganGenerator : nn.Module<Tensor, Tensor>
{
    /// <summary>Channels of the feature map that the projection is reshaped into.</summary>
    public const int ProjectionChannels = 128;

    /// <summary>Height and width of the feature map that the projection is reshaped into.</summary>
    public const int ProjectionSize = 7;

    private const int HiddenChannels = 64;
    private const int ProjectionFeatures = ProjectionChannels * ProjectionSize * ProjectionSize;

    private readonly Linear project;
    private readonly BatchNorm1d projectNorm;
    private readonly ConvTranspose2d upsample1;
    private readonly BatchNorm2d upsample1Norm;
    private readonly ConvTranspose2d upsample2;

    /// <summary>Creates the layers and registers them as <c>project</c>, <c>project_norm</c>, <c>upsample1</c>,
    /// <c>upsample1_norm</c> and <c>upsample2</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="options"/> is invalid (see <see cref="DcganOptions.Validate"/>).</exception>
    public DcganGenerator(DcganOptions options, string name = "dcgan_generator")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        project = nn.Linear(options.LatentSize, ProjectionFeatures);
        projectNorm = nn.BatchNorm1d(ProjectionFeatures);
        upsample1 = nn.ConvTranspose2d(ProjectionChannels, HiddenChannels, kernel_size: 4, stride: 2, padding: 1);
        upsample1Norm = nn.BatchNorm2d(HiddenChannels);
        upsample2 = nn.ConvTranspose2d(HiddenChannels, 1, kernel_size: 4, stride: 2, padding: 1);

        register_module("project", project);
        register_module("project_norm", projectNorm);
        register_module("upsample1", upsample1);
        register_module("upsample1_norm", upsample1Norm);
        register_module("upsample2", upsample2);
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

        using var projected = project.forward(input);
        using var projectedNormalized = projectNorm.forward(projected);
        using var projectedActivation = nn.functional.relu(projectedNormalized);
        using var featureMap = projectedActivation.reshape(-1, ProjectionChannels, ProjectionSize, ProjectionSize);

        using var upsampled = upsample1.forward(featureMap);
        using var upsampledNormalized = upsample1Norm.forward(upsampled);
        using var upsampledActivation = nn.functional.relu(upsampledNormalized);

        using var pixels = upsample2.forward(upsampledActivation);
        return pixels.tanh();
    }
}
