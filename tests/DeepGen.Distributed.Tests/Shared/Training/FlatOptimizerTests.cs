using System.Runtime.InteropServices;
using DeepGen.Distributed.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Tests.Training;

public sealed class FlatOptimizerTests
{
    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void Flat_update_matches_libtorch_optimizer(string name)
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(11);
        using var reference = nn.Linear(37, 13);
        using var flat = nn.Linear(37, 13);
        flat.load_state_dict(reference.state_dict());
        var referenceParameters = reference.parameters().ToList();
        using var optimizer = name == "adam" ? (optim.Optimizer)optim.Adam(referenceParameters, 1e-2) : optim.SGD(referenceParameters, 0.1);
        FlatOptimizer flatOptimizer = name == "adam" ? new FlatAdam(flat.parameters(), 1e-2) : new FlatSgd(flat.parameters(), 0.1);
        var generator = new Generator(3);

        for (var step = 0; step < 25; step++)
        {
            using var scope = torch.NewDisposeScope();
            var input = torch.randn([8, 37], generator: generator);

            optimizer.zero_grad();
            reference.call(input).pow(2).mean().backward();
            optimizer.step();

            flat.zero_grad();
            flat.call(input).pow(2).mean().backward();
            var gradients = flat.parameters().SelectMany(p => MemoryMarshal.Cast<byte, float>(p.grad!.bytes).ToArray()).ToArray();
            flatOptimizer.Step(gradients);
        }

        var expected = reference.parameters().SelectMany(p => MemoryMarshal.Cast<byte, float>(p.bytes).ToArray()).ToArray();
        var actual = flat.parameters().SelectMany(p => MemoryMarshal.Cast<byte, float>(p.bytes).ToArray()).ToArray();
        var worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-5, $"{name}: parameters differ by up to {worst} after 25 steps");
        Assert.Equal(actual, flatOptimizer.Parameters);
        Assert.Equal(25, flatOptimizer.Steps);
    }

    [Fact]
    public void Short_gradient_buffer_is_rejected()
    {
        TorchRuntime.EnsureLoaded();
        using var layer = nn.Linear(4, 2);
        var optimizer = new FlatSgd(layer.parameters(), 0.1);

        var error = Assert.Throws<ArgumentException>(() => optimizer.Step(new float[3]));

        Assert.Contains("3 gradients for 10 parameters", error.Message, StringComparison.Ordinal);
    }
}

public sealed class LearningRateScheduleTests
{
    [Theory]
    [InlineData("constant", 1, 100, 1.0)]
    [InlineData("constant", 100, 100, 1.0)]
    [InlineData("cosine", 1, 100, 1.0)]
    [InlineData("cosine", 51, 100, 0.5)]
    [InlineData("cosine", 101, 100, 0.0)]
    [InlineData("cosine", 26, 100, 0.8535533905932737)]
    public void Scale_matches_hand_values(string schedule, long step, long totalSteps, double expected)
    {
        Assert.Equal(expected, LearningRateSchedule.Scale(schedule, step, totalSteps), 12);
    }

    [Fact]
    public void Scale_multiplies_the_sgd_update()
    {
        TorchRuntime.EnsureLoaded();
        using var layer = TorchSharp.torch.nn.Linear(1, 1, hasBias: false);
        var optimizer = new FlatSgd(layer.parameters(), 0.5) { LearningRateScale = 0.5 };
        var before = optimizer.Parameters[0];

        optimizer.Step([2f]);

        Assert.Equal(before - 0.5f, optimizer.Parameters[0]);
    }
}
