namespace DeepGen.Distributed.Tests.Coordinator.Cli;

/// <summary><c>deepgen train</c> options set through DEEPGEN_* environment variables.</summary>
public sealed class TrainEnvironmentTests
{
    [Fact]
    public void Unparsable_variable_is_rejected_by_name()
    {
        var (exitCode, output) = ProcessRunner.Run(
            "dotnet",
            [ProcessRunner.Program("deepgen"), "train"],
            TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["DEEPGEN_PORT"] = "port-4053", ["DEEPGEN_EXTERNAL_WORKERS"] = "yes" });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("DEEPGEN_PORT 'port-4053' is invalid; it must be an integer.", output, StringComparison.Ordinal);
        Assert.Contains("DEEPGEN_EXTERNAL_WORKERS 'yes' is invalid; it must be true, false, 1 or 0.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Variable_value_is_validated_like_option()
    {
        var (exitCode, output) = ProcessRunner.Run(
            "dotnet",
            [ProcessRunner.Program("deepgen"), "train"],
            TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["DEEPGEN_WORKERS"] = "0", ["DEEPGEN_EXTERNAL_WORKERS"] = "true", ["DEEPGEN_BIND_HOST"] = "not a host" });

        Assert.Equal(2, exitCode);
        Assert.Contains("--workers 0 is invalid", output, StringComparison.Ordinal);
        Assert.Contains("--external-workers needs a fixed --port", output, StringComparison.Ordinal);
        Assert.Contains("--bind-host 'not a host' is invalid", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Command_line_wins_over_variable()
    {
        var (exitCode, output) = ProcessRunner.Run(
            "dotnet",
            [ProcessRunner.Program("deepgen"), "train", "--workers", "0"],
            TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["DEEPGEN_WORKERS"] = "3", ["DEEPGEN_LOG_LEVEL"] = "LOUD" });

        Assert.Equal(2, exitCode);
        Assert.Contains("--workers 0 is invalid", output, StringComparison.Ordinal);
        Assert.Contains("--log-level 'LOUD' is invalid", output, StringComparison.Ordinal);
    }
}
