using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Tests.Sweeps;

public sealed class SweepSpecParserTests
{
    private const string Valid = """
        base:
          model: vae
          epochs: 2
          workers: 1
          train_limit: 600
        parameters:
          lr:
            log_uniform: [1.0e-4, 1.0e-2]
          beta:
            grid: [0.5, 1.0]
        search:
          type: random
          seed: 7
          samples: 4
        objective:
          metric: test_neg_elbo
          mode: min
        budget:
          max_trials: 4
          max_concurrent: 2
        scheduler:
          type: asha
          grace_period: 1
          reduction_factor: 2
        """;

    [Fact]
    public void Valid_spec_parses_every_section()
    {
        var spec = SweepSpecParser.Parse(Valid);

        Assert.Equal("vae", spec.Base.Model);
        Assert.Equal(2, spec.Base.Epochs);
        Assert.Equal(600, spec.Base.TrainLimit);
        Assert.Equal(["lr", "beta"], spec.Parameters.Select(p => p.Name));
        Assert.Equal(DistributionKind.LogUniform, spec.Parameters[0].Kind);
        Assert.Equal(new SweepSearch(SearchKind.Random, 7, 4), spec.Search);
        Assert.Equal(new SweepObjective("test_neg_elbo", ObjectiveMode.Min), spec.Objective);
        Assert.Equal(new SweepBudget(4, 2), spec.Budget);
        Assert.Equal(SchedulerKind.Asha, spec.Scheduler.Kind);
        Assert.Equal(2, spec.Scheduler.MaxResource);
        Assert.Equal([1L], spec.Scheduler.Rungs());
    }

    [Theory]
    [InlineData("  lrr:\n    grid: [0.1]", 7, "unknown parameter 'lrr'")]
    [InlineData("  lr:\n    grid: []", 8, "empty range")]
    [InlineData("  lr:\n    uniform: [0.01, 0.001]", 8, "empty range")]
    [InlineData("  latent_size:\n    int: [30, 10]", 8, "empty range")]
    [InlineData("  lr:\n    log_uniform: [0, 0.1]", 8, "log_uniform needs positive bounds")]
    [InlineData("  lr:\n    log_uniform: [-1.0e-3, 0.1]", 8, "log_uniform needs positive bounds")]
    [InlineData("  lr:\n    grid: [0.001, -1]", 7, "--lr -1 is invalid")]
    [InlineData("  optimizer:\n    uniform: [0, 1]", 8, "ranges are for real settings")]
    [InlineData("  lr:\n    normal: [0, 1]", 8, "unknown distribution 'normal'")]
    public void Invalid_parameter_is_rejected_with_its_line(string parameters, int line, string reason)
    {
        var yaml = $"""
            base:
              model: vae
              epochs: 1
              train_limit: 600
            search: {"{type: random, samples: 2}"}
            parameters:
            {parameters}
            objective:
              metric: test_neg_elbo
            """;

        var error = Assert.Throws<SweepSpecException>(() => SweepSpecParser.Parse(yaml));

        var match = Assert.Single(error.Errors, e => e.Message.Contains(reason, StringComparison.Ordinal));
        Assert.Equal(line, match.Line);
    }

    [Fact]
    public void Metric_the_model_does_not_produce_is_rejected()
    {
        var yaml = Valid.Replace("metric: test_neg_elbo", "metric: test_accuracy", StringComparison.Ordinal);

        var error = Assert.Throws<SweepSpecException>(() => SweepSpecParser.Parse(yaml));

        var match = Assert.Single(error.Errors);
        Assert.Equal(16, match.Line);
        Assert.Contains("not produced by model vae", match.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_base_setting_points_at_its_line()
    {
        var yaml = Valid.Replace("epochs: 2", "epochs: 0", StringComparison.Ordinal).Replace("workers: 1", "wrkers: 1", StringComparison.Ordinal);

        var error = Assert.Throws<SweepSpecException>(() => SweepSpecParser.Parse(yaml));

        Assert.Contains(error.Errors, e => e.Line == 3 && e.Message.Contains("--epochs 0 is invalid", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Line == 4 && e.Message.Contains("unknown setting 'wrkers'", StringComparison.Ordinal));
    }

    [Fact]
    public void Grid_search_rejects_continuous_range()
    {
        var yaml = Valid.Replace("type: random", "type: grid", StringComparison.Ordinal);

        var error = Assert.Throws<SweepSpecException>(() => SweepSpecParser.Parse(yaml));

        var match = Assert.Single(error.Errors);
        Assert.Equal(7, match.Line);
        Assert.Contains("grid search cannot enumerate", match.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("asha", SchedulerKind.Asha)]
    [InlineData("asha_stopping", SchedulerKind.AshaStopping)]
    [InlineData("fifo", SchedulerKind.Fifo)]
    public void Scheduler_type_selects_kind(string type, SchedulerKind expected)
    {
        var yaml = Valid.Replace("type: asha", $"type: {type}", StringComparison.Ordinal);

        var spec = SweepSpecParser.Parse(yaml);

        Assert.Equal(expected, spec.Scheduler.Kind);
        Assert.Equal(type, spec.Scheduler.Name);
    }

    [Fact]
    public void Asha_without_a_rung_is_rejected()
    {
        var yaml = Valid.Replace("grace_period: 1", "grace_period: 2", StringComparison.Ordinal);

        var error = Assert.Throws<SweepSpecException>(() => SweepSpecParser.Parse(yaml));

        Assert.Contains(error.Errors, e => e.Line == 23 && e.Message.Contains("no rung", StringComparison.Ordinal));
    }

    [Fact]
    public void Malformed_yaml_reports_the_parser_line()
    {
        var error = Assert.Throws<SweepSpecException>(() => SweepSpecParser.Parse("base:\n  model: vae\n  epochs: [1\n"));

        Assert.StartsWith("invalid YAML", Assert.Single(error.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Step_rungs_set_the_evaluation_interval()
    {
        var yaml = Valid.Replace("grace_period: 1", "resource: steps\n  grace_period: 10\n  max_resource: 80", StringComparison.Ordinal);

        var spec = SweepSpecParser.Parse(yaml);

        Assert.Equal(10, spec.Base.EvaluateEverySteps);
        Assert.Equal([10L, 20L, 40L], spec.Scheduler.Rungs());
    }
}
