using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>
/// The generator and the discriminator of a GAN as one module, so that both travel, are
/// checkpointed and are checksummed as one state (parameter names start with <c>generator.</c>
/// and <c>discriminator.</c>).
/// </summary>
public sealed class GanNetworks : nn.Module
{
    /// <param name="architecture"><c>dcgan</c> (with BatchNorm) or <c>mlp</c> (without).</param>
    public GanNetworks(string architecture, DcganOptions options)
        : base("gan")
    {
        Architecture = architecture;
        Options = options;
        (generator, discriminator) = architecture switch
        {
            "dcgan" => ((nn.Module<Tensor, Tensor>)new DcganGenerator(options), (nn.Module<Tensor, Tensor>)new DcganDiscriminator(options)),
            "mlp" => (new MlpGanGenerator(options), new MlpGanDiscriminator(options)),
            _ => throw new ArgumentException($"GAN architecture '{architecture}' is not available; use dcgan or mlp.", nameof(architecture)),
        };
        RegisterComponents();
    }

    public string Architecture { get; }

    public DcganOptions Options { get; }

    /// <summary>z [B, latent] → images [B, 1, 28, 28] in [−1, 1].</summary>
    public nn.Module<Tensor, Tensor> Generator => generator;

    /// <summary>images [B, 1, 28, 28] → "real" logit [B, 1].</summary>
    public nn.Module<Tensor, Tensor> Discriminator => discriminator;

    // Field names are the state names' prefixes, as PyTorch names submodules after attributes.
    private readonly nn.Module<Tensor, Tensor> generator;
    private readonly nn.Module<Tensor, Tensor> discriminator;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            generator.Dispose();
            discriminator.Dispose();
        }

        base.Dispose(disposing);
    }
}
