using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Tests.Training;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Matrix_product_runs_on_libtorch()
    {
        TorchRuntime.EnsureLoaded();

        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        using var product = torch.matmul(a, b);

        Assert.Equal(new float[] { 19, 22, 43, 50 }, product.data<float>().ToArray());
    }
}
