using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Tests.Training;

/// <summary>An optimizer restored from its saved state continues exactly as the one that saved it.</summary>
public sealed class OptimizerStateTests
{
    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void Restored_optimizer_continues_bit_for_bit(string name)
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(5);
        using var original = nn.Linear(9, 4);
        using var restored = nn.Linear(9, 4);
        var originalOptimizer = Create(name, original);
        var gradients = Enumerable.Range(0, 5).Select(step => Enumerable.Range(0, originalOptimizer.Parameters.Length).Select(i => MathF.Sin((step * 131) + i)).ToArray()).ToList();
        originalOptimizer.Step(gradients[0]);
        originalOptimizer.Step(gradients[1]);

        var weights = ParameterCodec.Encode(original);
        var state = originalOptimizer.SaveState();
        ParameterCodec.Decode(weights, restored);
        var restoredOptimizer = Create(name, restored);
        restoredOptimizer.LoadState(state);
        for (var step = 2; step < gradients.Count; step++)
        {
            originalOptimizer.Step(gradients[step]);
            restoredOptimizer.Step(gradients[step]);
        }

        Assert.Equal(originalOptimizer.Steps, restoredOptimizer.Steps);
        Assert.Equal(originalOptimizer.Parameters, restoredOptimizer.Parameters);
        Assert.Equal(ParameterCodec.Checksum(original), ParameterCodec.Checksum(restored));
    }

    [Fact]
    public void Mismatched_state_is_rejected()
    {
        TorchRuntime.EnsureLoaded();
        using var small = nn.Linear(3, 2);
        using var large = nn.Linear(5, 2);
        var state = new FlatAdam(small.parameters(), 1e-3).SaveState();

        var error = Assert.Throws<ArgumentException>(() => new FlatAdam(large.parameters(), 1e-3).LoadState(state));

        Assert.Contains($"{state.Length} bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("12 parameters", error.Message, StringComparison.Ordinal);
    }

    private static FlatOptimizer Create(string name, nn.Module module) =>
        name == "adam" ? new FlatAdam(module.parameters(), 1e-2) : new FlatSgd(module.parameters(), 0.1);
}
