using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>
/// The image's entry point script, run here on the folder that the Dockerfile's publish commands
/// produce. Only loopback addresses are used.
/// </summary>
public sealed class EntrypointTests(PublishedLayout layout) : IClassFixture<PublishedLayout>
{
    [Fact]
    public void Published_folder_holds_entrypoint_programs()
    {
        var programs = PublishedLayout.ProgramsInEntrypoint();

        Assert.Equal(["deepgen.dll", "deepgen-worker.dll"], programs);
        foreach (var program in programs)
        {
            var name = Path.GetFileNameWithoutExtension(program);
            Assert.True(File.Exists(Path.Combine(layout.Directory, program)), $"{program} is missing from the published folder.");
            Assert.True(File.Exists(Path.Combine(layout.Directory, name + ".runtimeconfig.json")), $"{name}.runtimeconfig.json is missing from the published folder.");
            Assert.True(File.Exists(Path.Combine(layout.Directory, name + ".deps.json")), $"{name}.deps.json is missing; without it the native libtorch libraries are not found.");
        }
    }

    [Theory]
    [InlineData("coordinator", "deepgen train [options]")]
    [InlineData("worker", "deepgen-worker [options]")]
    public void Role_runs_its_program(string role, string usage)
    {
        var (exitCode, output) = RunEntrypoint([role, "--help"], new Dictionary<string, string> { ["DEEPGEN_HOST"] = "127.0.0.1" }, TimeSpan.FromMinutes(1));

        Assert.True(exitCode == 0, output);
        Assert.Contains(usage, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_role_is_rejected()
    {
        var (exitCode, output) = RunEntrypoint(["trainer"], new Dictionary<string, string> { ["DEEPGEN_HOST"] = "127.0.0.1" }, TimeSpan.FromMinutes(1));

        Assert.Equal(2, exitCode);
        Assert.Contains("role 'trainer' is invalid; give coordinator or worker", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Configures both roles through DEEPGEN_* variables only, as the compose file does. The
    /// coordinator advertises a name (localhost) and binds an address (127.0.0.1), like the
    /// containers that advertise their service name and bind 0.0.0.0.
    /// </summary>
    [Fact]
    public async Task Variables_alone_configure_a_run()
    {
        using var folder = new TemporaryDirectory();
        var port = FreePort().ToString(CultureInfo.InvariantCulture);
        var worker = Task.Run(() => RunEntrypoint(
            ["worker"],
            new Dictionary<string, string>
            {
                ["DEEPGEN_SEED_NODES"] = $"akka.tcp://deepgen@localhost:{port}",
                ["DEEPGEN_HOST"] = "127.0.0.1",
                ["DEEPGEN_WORKER_ID"] = "entrypoint-worker",
                ["DEEPGEN_LOG_LEVEL"] = "WARNING",
            },
            TimeSpan.FromMinutes(3)));

        var (exitCode, output) = RunEntrypoint(
            ["coordinator", "--epochs", "1", "--batch-size", "32", "--train-limit", "320", "--test-limit", "64"],
            new Dictionary<string, string>
            {
                ["DEEPGEN_HOST"] = "localhost",
                ["DEEPGEN_BIND_HOST"] = "127.0.0.1",
                ["DEEPGEN_PORT"] = port,
                ["DEEPGEN_WORKERS"] = "1",
                ["DEEPGEN_WORKER_WAIT_TIMEOUT"] = "90",
                ["DEEPGEN_OUTPUT"] = folder.File("run"),
            },
            TimeSpan.FromMinutes(3));
        var (workerExitCode, workerOutput) = await worker;

        Assert.True(exitCode == 0, output);
        Assert.Contains($"coordinator node akka.tcp://deepgen@localhost:{port}", output, StringComparison.Ordinal);
        Assert.Contains("finished after 10 steps", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder.File("run"), "metrics.csv")), output);
        Assert.True(workerExitCode == 0, workerOutput);
        Assert.Contains("worker entrypoint-worker: node akka.tcp://deepgen@127.0.0.1:", workerOutput, StringComparison.Ordinal);
    }

    private (int ExitCode, string Output) RunEntrypoint(string[] arguments, Dictionary<string, string> environment, TimeSpan timeout)
    {
        environment["DEEPGEN_APP_DIR"] = layout.Directory;
        return ProcessRunner.Run(PublishedLayout.EntrypointScript, arguments, timeout, environment);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
