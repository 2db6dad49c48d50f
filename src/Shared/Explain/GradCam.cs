using DeepGen.Distributed.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Explain;

/// <summary>
/// Grad-CAM: weights each channel A^k of a convolutional feature map by α_k, the spatial mean of the gradient of
/// a score with respect to A^k, and returns ReLU(Σ_k α_k A^k). For a network that ends in global average pooling
/// and one linear layer, Grad-CAM equals ReLU(CAM) / (H·W).
/// </summary>
public static class GradCam
{
    /// <summary>Computes the Grad-CAM maps of a score with respect to feature maps it was computed from.</summary>
    /// <remarks>
    /// The gradient is taken of Σ_b score_b, which gives each image its own gradient only when the images do not
    /// interact between <paramref name="features"/> and <paramref name="score"/>. A BatchNorm layer in train mode
    /// mixes them, so run the model in eval mode. The graph is retained, so the caller may differentiate it again,
    /// for example for another class.
    /// </remarks>
    /// <param name="features">Feature maps A, shape [B, K, H, W], part of the autograd graph of
    /// <paramref name="score"/> (a leaf with requires_grad, or computed from one).</param>
    /// <param name="score">One score per image, shape [B], computed from <paramref name="features"/>.</param>
    /// <returns>Maps, shape [B, H, W], non-negative and detached from the graph.</returns>
    /// <exception cref="ArgumentException">A shape is wrong, or <paramref name="features"/> does not require grad.</exception>
    public static Tensor Compute(Tensor features, Tensor score)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(score);
        ClassActivationMap.RequireRank(features, 4, "[B, K, H, W]", nameof(features));
        ClassActivationMap.RequireRank(score, 1, "[B]", nameof(score));
        if (score.shape[0] != features.shape[0])
        {
            throw new ArgumentException(
                $"score has {score.shape[0]} entries, but features have a batch of {features.shape[0]}. " +
                "Pass one score per image.", nameof(score));
        }

        if (!features.requires_grad)
        {
            throw new ArgumentException(
                "features do not require grad, so the score has no gradient with respect to them. Compute the " +
                "features with grad enabled, or detach them and call requires_grad_(true) before computing the score.",
                nameof(features));
        }

        using var scope = NewDisposeScope();
        using var ones = ones_like(score);
        var gradients = torch.autograd.grad([score], [features], [ones], retain_graph: true);
        var channelWeights = gradients[0].mean([2L, 3L], keepdim: true);

        using var noGrad = no_grad();
        var weightedSum = (channelWeights * features.detach()).sum(1);
        return nn.functional.relu(weightedSum).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Computes Grad-CAM maps at the layer named <paramref name="layerName"/> (as in
    /// <c>named_modules()</c>, for example <c>block3_conv</c>) of any CNN: a forward hook keeps that
    /// layer's output A, and α_k is the spatial mean of ∂score/∂A^k.
    /// </summary>
    /// <remarks>
    /// The model runs with grad enabled through <c>call()</c>, which fires forward hooks, so parameter
    /// gradients are computed but not stored: only ∂score/∂A is requested. Put the model in eval mode
    /// first, because train-mode BatchNorm mixes the images of a batch.
    /// </remarks>
    /// <param name="score">Maps the model's output, for example logits [B, classes], to one score per image [B].</param>
    /// <returns>Maps, shape [B, H, W] of the layer's output, non-negative.</returns>
    /// <exception cref="ArgumentException">No module has that name, or its output is not [B, K, H, W].</exception>
    public static Tensor ForLayer(nn.Module<Tensor, Tensor> model, string layerName, Tensor images, Func<Tensor, Tensor> score)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(score);
        var layer = model.named_modules().Where(m => m.name == layerName).Select(m => m.module).FirstOrDefault()
            ?? throw new ArgumentException(
                $"The model has no layer named '{layerName}'. Its layers are: {string.Join(", ", model.named_modules().Select(m => m.name).Where(n => n.Length > 0))}.",
                nameof(layerName));

        Tensor? activation = null;
        var tensorLayer = layer as nn.Module<Tensor, Tensor>
            ?? throw new ArgumentException($"Layer '{layerName}' does not map one tensor to one tensor, so its output cannot be explained.", nameof(layerName));
        // Containers such as Sequential dispose each layer's output once the next layer has run.
        // The hook therefore keeps the output and hands the next layers a view of it, so the score
        // still depends on the kept tensor and only the view is disposed.
        var hook = tensorLayer.register_forward_hook((_, _, output) =>
        {
            activation = output;
            return output.alias();
        });
        try
        {
            using var scope = NewDisposeScope();
            using var enableGrad = enable_grad();
            var scores = score(model.call(images));
            if (activation is null)
            {
                throw new ArgumentException($"Layer '{layerName}' did not run in the forward pass.", nameof(layerName));
            }

            return Compute(activation, scores).MoveToOuterDisposeScope();
        }
        finally
        {
            hook.remove();
        }
    }

    /// <summary>Computes the Grad-CAM maps of one class logit of a <see cref="ClassifierCnn"/>.</summary>
    /// <remarks>
    /// The last convolution block runs without grad, and the logit is recomputed from a detached copy of its
    /// output through GAP and the model's linear weight and bias, so no gradient reaches the model's parameters.
    /// The model's mode is left as it is: call <c>eval()</c> first so BatchNorm uses its running statistics.
    /// </remarks>
    /// <param name="images">Images, shape [B, 1, 28, 28], in the pixel range the model was trained on.</param>
    /// <param name="classIndex">Class whose logit is explained.</param>
    /// <returns>Maps, shape [B, 7, 7], non-negative.</returns>
    public static Tensor ForClassifier(ClassifierCnn model, Tensor images, long classIndex)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        long classes = model.Options.Classes;
        if (classIndex < 0 || classIndex >= classes)
        {
            throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex,
                $"classIndex must be in 0 to {classes - 1}, the classes of the model.");
        }

        using var scope = NewDisposeScope();
        var features = DetachedFeatures(() => model.Features(images));

        using var enableGrad = enable_grad();
        var pooled = features.mean([2L, 3L]);
        var logits = nn.functional.linear(pooled, model.ClassifierWeight.detach(), model.ClassifierBias.detach());
        var score = logits.select(1, classIndex);
        return Compute(features, score).MoveToOuterDisposeScope();
    }

    /// <summary>Computes the Grad-CAM maps of a <see cref="DcganDiscriminator"/>'s decision.</summary>
    /// <remarks>
    /// The score is the logit for <paramref name="real"/> = true, and its negative (the evidence for "generated")
    /// otherwise. As in <see cref="ForClassifier"/>, the convolution blocks run without grad and the logit is
    /// recomputed from a detached copy of the features through <see cref="DcganDiscriminator.Classify"/>, and the
    /// model's mode is left as it is.
    /// </remarks>
    /// <param name="images">Images, shape [B, 1, 28, 28], pixel values in [−1, 1].</param>
    /// <returns>Maps, shape [B, 7, 7], non-negative.</returns>
    public static Tensor ForDiscriminator(DcganDiscriminator model, Tensor images, bool real)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);

        using var scope = NewDisposeScope();
        var features = DetachedFeatures(() => model.Features(images));

        using var enableGrad = enable_grad();
        var logit = model.Classify(features).select(1, 0);
        var score = real ? logit : logit.neg();
        return Compute(features, score).MoveToOuterDisposeScope();
    }

    private static Tensor DetachedFeatures(Func<Tensor> features)
    {
        using var noGrad = no_grad();
        using var computed = features();
        return computed.detach().requires_grad_(true);
    }
}
