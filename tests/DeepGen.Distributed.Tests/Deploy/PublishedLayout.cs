using System.Text.RegularExpressions;

namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>
/// The folder that the Dockerfile's <c>dotnet publish</c> commands produce, made here from the
/// existing build (<c>--no-build</c>, hard links where the file system allows) and deleted on dispose.
/// </summary>
public sealed partial class PublishedLayout : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    public PublishedLayout()
    {
        var dockerfile = File.ReadAllText(Path.Combine(DeployFiles.DeployDirectory, "Dockerfile"));
        // The test assembly's folder is bin/CONFIGURATION/net10.0, and the solution builds the programs in the same configuration.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        foreach (var (project, _) in DockerfileChecks.PublishCommands(dockerfile))
        {
            var (exitCode, output) = ProcessRunner.Run(
                "dotnet",
                ["publish", project, "-c", configuration, "--no-build", "-nologo", "-o", Directory, "-p:CreateHardLinksForPublishFilesIfPossible=true"],
                TimeSpan.FromMinutes(3));
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"dotnet publish {project} failed with exit code {exitCode}:\n{output}");
            }
        }
    }

    /// <summary>Stand-in for /app in the image.</summary>
    public string Directory => _folder.Path;

    public static string EntrypointScript => Path.Combine(DeployFiles.DeployDirectory, "docker-entrypoint.sh");

    /// <summary>Returns the program files that the entry point script runs, such as <c>deepgen.dll</c>.</summary>
    public static IReadOnlyList<string> ProgramsInEntrypoint() =>
        ProgramPath().Matches(File.ReadAllText(EntrypointScript)).Select(m => m.Groups["file"].Value).Distinct(StringComparer.Ordinal).ToList();

    public void Dispose() => _folder.Dispose();

    [GeneratedRegex(@"""\$app/(?<file>[\w.-]+\.dll)""")]
    private static partial Regex ProgramPath();
}
