using System.Globalization;
using DeepGen.Distributed.Coordinator.Sweeps.Search;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Tests.Sweeps;

public sealed class SearchSpaceTests
{
    private static SweepSpec Spec(string parameters, string search, string budget = "") => SweepSpecParser.Parse($"""
        base:
          model: vae
          epochs: 1
        parameters:
        {parameters}
        search: {search}
        objective:
          metric: test_neg_elbo
        {budget}
        """);

    [Fact]
    public void Grid_expands_to_cartesian_product()
    {
        var spec = Spec("  lr:\n    grid: [0.001, 0.01, 0.1]\n  beta:\n    choice: [0.5, 1]\n  latent_size:\n    int: [4, 5]", "{type: grid}");

        var trials = SearchSpace.Expand(spec);

        Assert.Equal(12, trials.Count);
        Assert.Equal(12, SearchSpace.GridSize(spec.Parameters));
        string[] rates = ["0.001", "0.01", "0.1"];
        string[] betas = ["0.5", "1"];
        string[] latents = ["4", "5"];
        var expected = from lr in rates from beta in betas from latent in latents select $"{lr}|{beta}|{latent}";
        Assert.Equal(expected, trials.Select(t => $"{t.Parameters["lr"]}|{t.Parameters["beta"]}|{t.Parameters["latent_size"]}"));
        Assert.Equal(Enumerable.Range(0, 12).Select(TrialDefinition.IdOf), trials.Select(t => t.Id));
        Assert.Equal(0.1, trials[11].Config.LearningRate);
        Assert.Equal(1.0, trials[11].Config.Beta);
        Assert.Equal(5, trials[11].Config.LatentSize);
        Assert.Equal(4, trials[0].Config.LatentSize);
    }

    [Fact]
    public void Budget_cuts_the_grid()
    {
        var spec = Spec("  lr:\n    grid: [0.001, 0.01, 0.1]", "{type: grid}", "budget: {max_trials: 2}");

        Assert.Equal(["0.001", "0.01"], SearchSpace.Expand(spec).Select(t => t.Parameters["lr"]));
    }

    [Fact]
    public void Random_search_is_reproducible_for_a_seed()
    {
        const string parameters = "  lr:\n    log_uniform: [1.0e-5, 1.0e-1]\n  beta:\n    uniform: [0.25, 4]\n  latent_size:\n    int: [2, 64]\n  optimizer:\n    choice: [adam, sgd]";

        var first = SearchSpace.Expand(Spec(parameters, "{type: random, seed: 11, samples: 50}"));
        var second = SearchSpace.Expand(Spec(parameters, "{type: random, seed: 11, samples: 50}"));
        var other = SearchSpace.Expand(Spec(parameters, "{type: random, seed: 12, samples: 50}"));

        Assert.Equal(first.Select(t => t.Config), second.Select(t => t.Config));
        Assert.NotEqual(first.Select(t => t.Config), other.Select(t => t.Config));
    }

    [Fact]
    public void Random_search_respects_bounds_and_log_scale()
    {
        var spec = Spec(
            "  lr:\n    log_uniform: [1.0e-5, 1.0e-1]\n  beta:\n    uniform: [0.25, 4]\n  latent_size:\n    int: [2, 5]\n  optimizer:\n    choice: [adam, sgd]",
            "{type: random, seed: 3, samples: 2000}");

        var trials = SearchSpace.Expand(spec);

        Assert.All(trials, t => Assert.InRange(t.Config.LearningRate, 1e-5, 1e-1));
        Assert.All(trials, t => Assert.InRange(t.Config.Beta, 0.25, 4));
        Assert.Equal([2, 3, 4, 5], trials.Select(t => t.Config.LatentSize).Distinct().Order());
        Assert.Equal(["adam", "sgd"], trials.Select(t => t.Config.Optimizer).Distinct().Order());

        // Log scale: each of the four decades gets about a quarter of the draws (500 expected).
        // A uniform draw would put about 90 % into the top decade.
        var decades = trials.GroupBy(t => (int)Math.Floor(Math.Log10(t.Config.LearningRate))).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([-5, -4, -3, -2], decades.Keys.Order());
        Assert.All(decades.Values, count => Assert.InRange(count, 400, 600));

        // Text form round-trips: the value in the table is the value trained with.
        Assert.All(trials, t => Assert.Equal(t.Config.LearningRate, double.Parse(t.Parameters["lr"], CultureInfo.InvariantCulture)));
    }
}
