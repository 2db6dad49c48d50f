using DeepGen.Distributed.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// Variational autoencoder with one hidden layer on each side, a diagonal Gaussian encoder
/// q(z|x) = N(mean, diag exp(logVariance)) and a Bernoulli decoder p(x|z) with mean sigmoid(logits).
/// </summary>
/// <remarks>
/// The encoder is Linear(input, hidden) + ReLU followed by two Linear(hidden, latent) heads, one for the mean and
/// one for the log-variance. The decoder is Linear(latent, hidden) + ReLU, then Linear(hidden, input). Weights keep
/// TorchSharp's default Linear initialisation, which matches PyTorch's. The caller supplies the standard
/// normal noise for the reparameterisation, so a seeded generator on the caller's side makes a step reproducible.
/// </remarks>
public sealed class Vae : nn.Module<Tensor, Tensor, (Tensor Logits, Tensor Mean, Tensor LogVariance)>
{
    private readonly Linear encoder;
    private readonly Linear meanHead;
    private readonly Linear logVarianceHead;
    private readonly Linear decoderHidden;
    private readonly Linear decoderOutput;

    /// <summary>Creates the layers and registers them as <c>encoder</c>, <c>mean_head</c>,
    /// <c>log_variance_head</c>, <c>decoder_hidden</c> and <c>decoder_output</c>.</summary>
    /// <exception cref="ArgumentException">A size in <paramref name="options"/> is below 1.</exception>
    public Vae(VaeOptions options, string name = "vae")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        encoder = nn.Linear(options.InputSize, options.HiddenSize);
        meanHead = nn.Linear(options.HiddenSize, options.LatentSize);
        logVarianceHead = nn.Linear(options.HiddenSize, options.LatentSize);
        decoderHidden = nn.Linear(options.LatentSize, options.HiddenSize);
        decoderOutput = nn.Linear(options.HiddenSize, options.InputSize);

        register_module("encoder", encoder);
        register_module("mean_head", meanHead);
        register_module("log_variance_head", logVarianceHead);
        register_module("decoder_hidden", decoderHidden);
        register_module("decoder_output", decoderOutput);
    }

    /// <summary>Layer sizes this model was built with.</summary>
    public VaeOptions Options { get; }

    /// <summary>Encodes a batch, samples z by reparameterisation and decodes it.</summary>
    /// <param name="input1">Images x, shape [B, InputSize], pixel values in [0, 1].</param>
    /// <param name="input2">Standard normal noise ε, shape [B, LatentSize].</param>
    /// <returns>Decoder logits [B, InputSize] (sigmoid gives the Bernoulli mean of each pixel), and the
    /// encoder's mean and log-variance, each [B, LatentSize].</returns>
    /// <exception cref="ArgumentException">A tensor's shape does not match the model's sizes.</exception>
    public override (Tensor Logits, Tensor Mean, Tensor LogVariance) forward(Tensor input1, Tensor input2)
    {
        ArgumentNullException.ThrowIfNull(input1);
        ArgumentNullException.ThrowIfNull(input2);

        RequireColumns(input1, Options.InputSize, "x", nameof(input1), nameof(VaeOptions.InputSize));
        var expectedNoiseShape = new[] { input1.shape[0], Options.LatentSize };
        if (!input2.shape.SequenceEqual(expectedNoiseShape))
        {
            throw new ArgumentException(
                $"noise has shape [{string.Join(", ", input2.shape)}], but the batch needs [{string.Join(", ", expectedNoiseShape)}] " +
                "(batch rows by LatentSize). Draw one standard normal row per image.",
                nameof(input2));
        }

        var (mean, logVariance) = Encode(input1);
        using var z = Reparameterize(mean, logVariance, input2);
        var logits = Decode(z);
        return (logits, mean, logVariance);
    }

    /// <summary>Computes the parameters of q(z|x).</summary>
    /// <param name="x">Images, shape [B, InputSize], pixel values in [0, 1].</param>
    /// <returns>Mean and log-variance of the diagonal Gaussian, each [B, LatentSize].</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not [B, InputSize].</exception>
    public (Tensor Mean, Tensor LogVariance) Encode(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireColumns(x, Options.InputSize, nameof(x), nameof(x), nameof(VaeOptions.InputSize));

        using var hidden = nn.functional.relu(encoder.forward(x));
        return (meanHead.forward(hidden), logVarianceHead.forward(hidden));
    }

    /// <summary>Maps latent codes to pixel logits.</summary>
    /// <param name="z">Latent codes, shape [B, LatentSize].</param>
    /// <returns>Logits [B, InputSize], whose sigmoid is the Bernoulli mean of each pixel.</returns>
    /// <exception cref="ArgumentException"><paramref name="z"/> is not [B, LatentSize].</exception>
    public Tensor Decode(Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        RequireColumns(z, Options.LatentSize, nameof(z), nameof(z), nameof(VaeOptions.LatentSize));

        using var hidden = nn.functional.relu(decoderHidden.forward(z));
        return decoderOutput.forward(hidden);
    }

    /// <summary>Draws z ~ N(mean, diag σ²) as z = mean + exp(½·logVariance) ⊙ noise, which keeps z
    /// differentiable in the mean and the log-variance.</summary>
    /// <param name="mean">μ, shape [B, LatentSize].</param>
    /// <param name="logVariance">log σ², same shape as <paramref name="mean"/>.</param>
    /// <param name="noise">ε ~ N(0, I), same shape as <paramref name="mean"/>.</param>
    /// <returns>z, same shape as <paramref name="mean"/>.</returns>
    public static Tensor Reparameterize(Tensor mean, Tensor logVariance, Tensor noise)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(logVariance);
        ArgumentNullException.ThrowIfNull(noise);

        using var standardDeviation = logVariance.Times(0.5).exp_();
        using var scaledNoise = standardDeviation * noise;
        return mean + scaledNoise;
    }

    private static void RequireColumns(Tensor tensor, int columns, string tensorName, string parameterName, string sizeName)
    {
        var shape = tensor.shape;
        if (shape.Length != 2 || shape[1] != columns)
        {
            throw new ArgumentException(
                $"{tensorName} has shape [{string.Join(", ", shape)}], but the model expects [B, {columns}] " +
                $"because {sizeName} is {columns}. Flatten the batch to {columns} columns or build the model with a matching {sizeName}.",
                parameterName);
        }
    }
}
