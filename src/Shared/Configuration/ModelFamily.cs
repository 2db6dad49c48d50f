namespace DeepGen.Distributed.Configuration;

/// <summary>
/// A model family that <c>deepgen train --model</c> accepts, with the names of the loss terms each
/// step reports and of the metrics its evaluation reports, in column order.
/// </summary>
/// <param name="Name">Value of <c>--model</c>.</param>
/// <param name="StepTerms">Per-step terms besides the training loss, averaged over the global batch.</param>
/// <param name="EvaluationMetrics">Held-out metrics of a weight snapshot.</param>
public sealed record ModelFamily(string Name, IReadOnlyList<string> StepTerms, IReadOnlyList<string> EvaluationMetrics)
{
    /// <summary>Variational autoencoder: terms in nats per image.</summary>
    public static readonly ModelFamily Vae = new("vae", ["reconstruction", "kl"], ["test_neg_elbo", "test_reconstruction", "test_kl"]);

    /// <summary>Autoencoder: per-pixel mean squared error; the mean-image MSE is the baseline to beat.</summary>
    public static readonly ModelFamily Autoencoder = new("autoencoder", ["mse"], ["test_mse", "mean_image_mse"]);

    /// <summary>
    /// GAN: discriminator and generator losses. The Fréchet distance is computed in the feature
    /// space of a Fashion-MNIST classifier, not Inception's, and is named for it.
    /// </summary>
    public static readonly ModelFamily Gan = new(
        "gan",
        ["d_loss", "g_loss"],
        ["fid_fashion_classifier", "class_entropy", "discriminator_accuracy"]);

    /// <summary>CNN classifier with global average pooling (the network CAM explains).</summary>
    public static readonly ModelFamily Classifier = new("classifier", ["cross_entropy", "accuracy"], ["test_accuracy", "test_cross_entropy"]);

    /// <summary>Every family, by <see cref="Name"/>.</summary>
    public static readonly IReadOnlyDictionary<string, ModelFamily> All = new[] { Vae, Autoencoder, Gan, Classifier }.ToDictionary(f => f.Name, StringComparer.Ordinal);
}
