using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Models;

public sealed class AutoencoderTests
{
    private static readonly AutoencoderOptions SmallOptions = new(InputSize: 12, LatentSize: 4);

    public AutoencoderTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Forward_returns_expected_shapes()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Autoencoder(SmallOptions);
        var x = torch.rand(3, 12);

        var (reconstruction, code) = model.forward(x);

        Assert.Equal(new long[] { 3, 12 }, reconstruction.shape);
        Assert.Equal(new long[] { 3, 4 }, code.shape);
    }

    [Fact]
    public void Outputs_lie_in_open_unit_interval()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var model = new Autoencoder(new AutoencoderOptions());
        var x = torch.rand(5, 784);

        var (reconstruction, code) = model.forward(x);

        Assert.True(reconstruction.min().item<float>() > 0, $"minimum reconstructed pixel {reconstruction.min().item<float>()} is not above 0");
        Assert.True(reconstruction.max().item<float>() < 1, $"maximum reconstructed pixel {reconstruction.max().item<float>()} is not below 1");
        Assert.True(code.min().item<float>() > 0, $"minimum code value {code.min().item<float>()} is not above 0");
        Assert.True(code.max().item<float>() < 1, $"maximum code value {code.max().item<float>()} is not below 1");
    }

    [Fact]
    public void Forward_equals_decode_of_encode()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Autoencoder(SmallOptions);
        var x = torch.rand(4, 12);

        var (reconstruction, code) = model.forward(x);
        var expectedCode = model.Encode(x);
        var expectedReconstruction = model.Decode(expectedCode);

        Assert.Equal(expectedCode.data<float>().ToArray(), code.data<float>().ToArray());
        Assert.Equal(expectedReconstruction.data<float>().ToArray(), reconstruction.data<float>().ToArray());
    }

    [Fact]
    public void Parameters_have_readable_names()
    {
        using var model = new Autoencoder(SmallOptions);

        var names = model.named_parameters().Select(parameter => parameter.name).ToList();
        var shapes = model.named_parameters().ToDictionary(parameter => parameter.name, parameter => parameter.parameter.shape);

        Assert.Equal(["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"], names);

        // W_e is m×n and W_d is n×m, stored as [out_features, in_features].
        Assert.Equal(new long[] { 4, 12 }, shapes["encoder.weight"]);
        Assert.Equal(new long[] { 12, 4 }, shapes["decoder.weight"]);
    }

    [Fact]
    public void Model_has_no_buffers()
    {
        using var model = new Autoencoder(SmallOptions);

        Assert.Empty(model.buffers());
    }

    [Theory]
    [InlineData(0, 4, "InputSize")]
    [InlineData(12, 0, "LatentSize")]
    [InlineData(16385, 4, "InputSize")]
    [InlineData(12, -3, "LatentSize")]
    public void Options_reject_sizes_out_of_range(int inputSize, int latentSize, string badName)
    {
        var options = new AutoencoderOptions(inputSize, latentSize);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(badName, error.ParamName);
        Assert.Contains("1 to 16384", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_rejects_input_of_wrong_width()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Autoencoder(SmallOptions);
        var x = torch.rand(3, 10);

        var error = Assert.Throws<ArgumentException>(() => model.forward(x));

        Assert.Contains("[3, 10]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 12]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_rejects_code_of_wrong_width()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new Autoencoder(SmallOptions);
        var z = torch.rand(2, 5);

        var error = Assert.Throws<ArgumentException>(() => model.Decode(z));

        Assert.Contains("[2, 5]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 4]", error.Message, StringComparison.Ordinal);
    }
}
