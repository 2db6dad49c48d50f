using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// Autoencoder with a single sigmoid layer on each side: the encoder computes z = σ(W_e x + b_e) and the decoder
/// computes x̂ = σ(W_d z + b_d).
/// </summary>
/// <remarks>
/// W_e is [LatentSize, InputSize] and W_d is [InputSize, LatentSize], stored as TorchSharp Linear weights
/// ([out_features, in_features]). Weights keep TorchSharp's default Linear initialisation, which matches PyTorch's.
/// The model has no buffers, so data-parallel training only has to average gradients.
/// </remarks>
public sealed class Autoencoder : nn.Module<Tensor, (Tensor Reconstruction, Tensor Code)>
{
    private readonly Linear encoder;
    private readonly Linear decoder;

    /// <summary>Creates the layers and registers them as <c>encoder</c> and <c>decoder</c>.</summary>
    /// <exception cref="ArgumentException">A size in <paramref name="options"/> is out of range.</exception>
    public Autoencoder(AutoencoderOptions options, string name = "autoencoder")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;

        encoder = nn.Linear(options.InputSize, options.LatentSize);
        decoder = nn.Linear(options.LatentSize, options.InputSize);

        register_module("encoder", encoder);
        register_module("decoder", decoder);
    }

    /// <summary>Layer sizes this model was built with.</summary>
    public AutoencoderOptions Options { get; }

    /// <summary>Encodes a batch and decodes the codes again.</summary>
    /// <param name="input">Images x, shape [B, InputSize], pixel values in [0, 1].</param>
    /// <returns>The reconstruction x̂ [B, InputSize] and the code z [B, LatentSize], both with values in (0, 1).</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not [B, InputSize].</exception>
    public override (Tensor Reconstruction, Tensor Code) forward(Tensor input)
    {
        var code = Encode(input);
        var reconstruction = Decode(code);
        return (reconstruction, code);
    }

    /// <summary>Computes the code z = σ(W_e x + b_e).</summary>
    /// <param name="x">Images, shape [B, InputSize], pixel values in [0, 1].</param>
    /// <returns>Codes, shape [B, LatentSize], values in (0, 1).</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not [B, InputSize].</exception>
    public Tensor Encode(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireColumns(x, Options.InputSize, nameof(x), nameof(AutoencoderOptions.InputSize));

        using var preActivation = encoder.forward(x);
        return preActivation.sigmoid();
    }

    /// <summary>Computes the reconstruction x̂ = σ(W_d z + b_d).</summary>
    /// <param name="z">Codes, shape [B, LatentSize].</param>
    /// <returns>Reconstructed pixels, shape [B, InputSize], values in (0, 1).</returns>
    /// <exception cref="ArgumentException"><paramref name="z"/> is not [B, LatentSize].</exception>
    public Tensor Decode(Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        RequireColumns(z, Options.LatentSize, nameof(z), nameof(AutoencoderOptions.LatentSize));

        using var preActivation = decoder.forward(z);
        return preActivation.sigmoid();
    }

    private static void RequireColumns(Tensor tensor, int columns, string parameterName, string sizeName)
    {
        var shape = tensor.shape;
        if (shape.Length != 2 || shape[1] != columns)
        {
            throw new ArgumentException(
                $"{parameterName} has shape [{string.Join(", ", shape)}], but the model expects [B, {columns}] " +
                $"because {sizeName} is {columns}. Flatten the batch to {columns} columns or build the model with a matching {sizeName}.",
                parameterName);
        }
    }
}
