using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Evaluation;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Tests.Worker.Training;

public sealed class ReplicaFactoryTests
{
    /// <summary>
    /// Threads that seed other runs, build replicas from weights and build evaluators, all at once,
    /// as the in-process trials of a sweep do, must not change the weights a seed gives.
    /// </summary>
    [Fact]
    public async Task Initial_weights_are_reproducible_under_concurrency()
    {
        TorchRuntime.EnsureLoaded();
        var config = new TrainingConfig(Model: "vae", Seed: 1, HiddenSize: 64, LatentSize: 8);
        var other = config with { Seed = 2 };
        var expected = ReplicaFactory.InitialWeights(config, 28, 28);
        var otherExpected = ReplicaFactory.InitialWeights(other, 28, 28);
        var test = new ImageDataset("test", 28, 28, new byte[4 * 28 * 28], new byte[4]);

        var tasks = new List<Task<(int Seed, byte[]? Weights)>>();
        for (var i = 0; i < 12; i++)
        {
            var kind = i % 4;
            tasks.Add(Task.Run(() =>
            {
                (int Seed, byte[]? Weights) last = (0, null);
                for (var repeat = 0; repeat < 10; repeat++)
                {
                    switch (kind)
                    {
                        case 0:
                            last = (1, ReplicaFactory.InitialWeights(config, 28, 28));
                            break;
                        case 1:
                            last = (2, ReplicaFactory.InitialWeights(other, 28, 28));
                            break;
                        case 2:
                            using (ReplicaFactory.Create(config, 28, 28, otherExpected))
                            {
                            }

                            break;
                        default:
                            using (new VaeEvaluator(test, new VaeOptions(28 * 28, 64, 8), seed: 3))
                            {
                            }

                            break;
                    }

                    if (last.Weights is { } weights)
                    {
                        Assert.Equal(last.Seed == 1 ? expected : otherExpected, weights);
                    }
                }

                return last;
            }));
        }

        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(6, results.Count(r => r.Weights is not null));
    }
}
