using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// Convolutional image classifier for 28×28 single-channel images whose last convolution block feeds global
/// average pooling (GAP) and one linear layer, the structure that Class Activation Maps require.
/// </summary>
/// <remarks>
/// <para>The layers are three blocks of Conv2d(kernel 3, padding 1), BatchNorm2d and ReLU. The first two blocks end
/// with MaxPool2d(2), so the maps go from 28×28 to 14×14 to 7×7, and the last block keeps 7×7. GAP then averages each
/// of the Channels3 maps to one value, and Linear(Channels3, Classes) gives the logits. Weights keep TorchSharp's
/// default initialisation.</para>
/// <para>Because GAP and the linear layer are both linear, the logit of class c is
/// b_c + mean_(x,y) CAM_c(x, y), where CAM_c(x, y) = Σ_k w_k^c f_k(x, y), f_k is channel k of
/// <see cref="Features"/> and w_k^c is row c, column k of <see cref="ClassifierWeight"/>.</para>
/// <para>Buffer contract: the three BatchNorm layers contain <c>running_mean</c>, <c>running_var</c> and
/// <c>num_batches_tracked</c>, which each train-mode forward updates from the local batch. Gradient averaging does
/// not synchronise them, so in data-parallel training the trainer must average the floating-point buffers
/// (<see cref="ModuleBuffers.FloatBuffers"/>) across ranks, at the latest before evaluating or saving the model.</para>
/// </remarks>
public sealed class ClassifierCnn : nn.Module<Tensor, Tensor>
{
    /// <summary>Height and width of the input images, in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>Height and width of the feature map that <see cref="Features"/> returns.</summary>
    public const int FeatureSize = 7;

    private readonly Conv2d block1Conv;
    private readonly BatchNorm2d block1Norm;
    private readonly Conv2d block2Conv;
    private readonly BatchNorm2d block2Norm;
    private readonly Conv2d block3Conv;
    private readonly BatchNorm2d block3Norm;
    private readonly Linear classify;

    /// <summary>Creates the layers and registers them as <c>block1_conv</c>, <c>block1_norm</c>, <c>block2_conv</c>,
    /// <c>block2_norm</c>, <c>block3_conv</c>, <c>block3_norm</c> and <c>classify</c>.</summary>
    /// <exception cref="ArgumentException">A size in <paramref name="options"/> is out of range.</exception>
    public ClassifierCnn(ClassifierOptions options, string name = "classifier_cnn")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        block1Conv = nn.Conv2d(1, options.Channels1, kernel_size: 3, padding: 1);
        block1Norm = nn.BatchNorm2d(options.Channels1);
        block2Conv = nn.Conv2d(options.Channels1, options.Channels2, kernel_size: 3, padding: 1);
        block2Norm = nn.BatchNorm2d(options.Channels2);
        block3Conv = nn.Conv2d(options.Channels2, options.Channels3, kernel_size: 3, padding: 1);
        block3Norm = nn.BatchNorm2d(options.Channels3);
        classify = nn.Linear(options.Channels3, options.Classes);

        register_module("block1_conv", block1Conv);
        register_module("block1_norm", block1Norm);
        register_module("block2_conv", block2Conv);
        register_module("block2_norm", block2Norm);
        register_module("block3_conv", block3Conv);
        register_module("block3_norm", block3Norm);
        register_module("classify", classify);
    }

    /// <summary>Sizes this model was built with.</summary>
    public ClassifierOptions Options { get; }

    /// <summary>Weight of the final linear layer, shape [Classes, Channels3]: entry [c, k] is w_k^c of the Class
    /// Activation Map. This is the module's own parameter, so the caller must not dispose it.</summary>
    public Tensor ClassifierWeight => classify.weight!;

    /// <summary>Bias of the final linear layer, shape [Classes]. This is the module's own parameter, so the caller
    /// must not dispose it.</summary>
    public Tensor ClassifierBias => classify.bias!;

    /// <summary>Classifies a batch of images.</summary>
    /// <param name="input">Images, shape [B, 1, 28, 28].</param>
    /// <returns>Logits, shape [B, Classes]. Softmax over the last dimension gives the class probabilities.</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not [B, 1, 28, 28].</exception>
    public override Tensor forward(Tensor input)
    {
        using var embedding = Embed(input);
        return classify.forward(embedding);
    }

    /// <summary>Computes the global average pooling of <see cref="Features"/>, one value per channel, which is the
    /// input of the final linear layer and serves as the feature space of a Fréchet distance.</summary>
    /// <param name="images">Images, shape [B, 1, 28, 28].</param>
    /// <returns>Embeddings, shape [B, Channels3], attached to the autograd graph.</returns>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not [B, 1, 28, 28].</exception>
    public Tensor Embed(Tensor images)
    {
        using var features = Features(images);
        return features.mean([2L, 3L]);
    }

    /// <summary>Computes the activation of the last convolution block, after its BatchNorm and ReLU: the maps f_k
    /// that a Class Activation Map weights.</summary>
    /// <param name="images">Images, shape [B, 1, 28, 28].</param>
    /// <returns>Feature maps, shape [B, Channels3, 7, 7], attached to the autograd graph.</returns>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not [B, 1, 28, 28].</exception>
    public Tensor Features(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var shape = images.shape;
        if (shape.Length != 4 || shape[1] != 1 || shape[2] != ImageSize || shape[3] != ImageSize)
        {
            throw new ArgumentException(
                $"images have shape [{string.Join(", ", shape)}], but the classifier expects [B, 1, {ImageSize}, {ImageSize}]. " +
                $"Reshape flattened images to one channel of {ImageSize}×{ImageSize} pixels.",
                nameof(images));
        }

        using var activation1 = ConvolutionBlock(images, block1Conv, block1Norm);
        using var pooled1 = nn.functional.max_pool2d(activation1, kernel_size: 2);

        using var activation2 = ConvolutionBlock(pooled1, block2Conv, block2Norm);
        using var pooled2 = nn.functional.max_pool2d(activation2, kernel_size: 2);

        return ConvolutionBlock(pooled2, block3Conv, block3Norm);
    }

    private static Tensor ConvolutionBlock(Tensor input, Conv2d convolution, BatchNorm2d norm)
    {
        using var convolved = convolution.forward(input);
        using var normalized = norm.forward(convolved);
        return nn.functional.relu(normalized);
    }
}
