using System.Text.Json;
using System.Text.RegularExpressions;
using DeepGen.Distributed.Cluster;

namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>Checks deploy/Dockerfile: base images, the published folder, the entry point and the exposed ports.</summary>
internal static partial class DockerfileChecks
{
    /// <summary>Base images must be .NET 10 on Ubuntu 24.04, whose libstdc++ has the GLIBCXX_3.4.32 that TorchSharp 0.107 needs.</summary>
    public const string ImagePrefix = "mcr.microsoft.com/dotnet/";

    /// <summary>Returns the Dockerfile's instructions with continuation lines joined and comments dropped.</summary>
    public static List<(string Keyword, string Arguments)> Instructions(string dockerfile)
    {
        var joined = ContinuationLine().Replace(dockerfile, " ");
        return joined.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split(' ', 2) is [var keyword, var rest] ? (keyword.ToUpperInvariant(), rest.Trim()) : (line.ToUpperInvariant(), ""))
            .ToList();
    }

    /// <summary>Returns the project files that <c>dotnet publish</c> runs on, in order, and the folder they publish to.</summary>
    public static List<(string Project, string Output)> PublishCommands(string dockerfile) =>
        Instructions(dockerfile)
            .Where(i => i.Keyword == "RUN")
            .SelectMany(i => PublishCommand().Matches(i.Arguments))
            .Select(m => (m.Groups["project"].Value, m.Groups["output"].Value))
            .ToList();

    public static List<string> Check(string dockerfile, string repositoryRoot, IReadOnlySet<int> requiredPorts)
    {
        var problems = new List<string>();
        var instructions = Instructions(dockerfile);
        var lastFrom = instructions.FindLastIndex(i => i.Keyword == "FROM");
        if (lastFrom < 0)
        {
            return ["Dockerfile: no FROM instruction."];
        }

        var images = instructions.Where(i => i.Keyword == "FROM").Select(i => i.Arguments.Split(' ')[0]).ToList();
        foreach (var image in images)
        {
            var (name, tag) = image.Split(':', 2) is [var n, var t] ? (n, t) : (image, "latest");
            if (!name.StartsWith(ImagePrefix, StringComparison.Ordinal) || !tag.StartsWith("10.0", StringComparison.Ordinal) || !tag.Contains("noble", StringComparison.Ordinal))
            {
                problems.Add($"Dockerfile: base image {image} is not a .NET 10 image on Ubuntu 24.04; use a {ImagePrefix}...:10.0-noble tag.");
            }
        }

        if (!images.Any(i => i.StartsWith(ImagePrefix + "sdk:", StringComparison.Ordinal)))
        {
            problems.Add($"Dockerfile: no build stage on {ImagePrefix}sdk.");
        }

        if (!images[^1].StartsWith(ImagePrefix + "aspnet:", StringComparison.Ordinal))
        {
            problems.Add($"Dockerfile: the final stage is {images[^1]}; expected {ImagePrefix}aspnet: the ASP.NET Core runtime that both programs use, without the SDK.");
        }

        var finalStage = instructions.Skip(lastFrom + 1).ToList();
        var publishes = PublishCommands(dockerfile);
        var outputs = publishes.Select(p => p.Output).Distinct(StringComparer.Ordinal).ToList();
        if (publishes.Count == 0 || outputs.Count != 1)
        {
            problems.Add($"Dockerfile: expected dotnet publish commands that all write to one folder; found {publishes.Count} writing to {string.Join(", ", outputs)}.");
        }

        foreach (var (project, _) in publishes.Where(p => !File.Exists(Path.Combine(repositoryRoot, p.Project))))
        {
            problems.Add($"Dockerfile: published project {project} does not exist.");
        }

        var appDirectory = outputs.Count == 1
            ? finalStage.Where(i => i.Keyword == "COPY" && i.Arguments.StartsWith("--from=", StringComparison.Ordinal))
                .Select(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(parts => parts.Length == 3 && parts[1] == outputs[0])
                .Select(parts => parts[2])
                .FirstOrDefault()
            : null;
        if (appDirectory is null)
        {
            problems.Add("Dockerfile: the final stage does not copy the published folder from the build stage.");
        }

        problems.AddRange(Entrypoint(finalStage, repositoryRoot, appDirectory));

        var exposed = finalStage.Where(i => i.Keyword == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => DeployFiles.ParsePort(p.Split('/')[0])).ToHashSet();
        foreach (var port in requiredPorts.Where(p => !exposed.Contains(p)))
        {
            problems.Add($"Dockerfile: port {port}, which the deployment files use, is not in EXPOSE.");
        }

        var command = ExecForm(finalStage.LastOrDefault(i => i.Keyword == "CMD").Arguments);
        if (command is not [ClusterRoles.Coordinator or ClusterRoles.Worker, ..])
        {
            problems.Add("Dockerfile: CMD must be in exec form and start with a role, coordinator or worker.");
        }

        return problems;
    }

    /// <summary>Checks that the ENTRYPOINT is a script copied from the repository, executable, that runs programs from the published folder.</summary>
    private static IEnumerable<string> Entrypoint(List<(string Keyword, string Arguments)> finalStage, string repositoryRoot, string? appDirectory)
    {
        var entrypoint = ExecForm(finalStage.LastOrDefault(i => i.Keyword == "ENTRYPOINT").Arguments);
        if (entrypoint is not [var path, ..])
        {
            yield return "Dockerfile: ENTRYPOINT must be in exec form, for example [\"/app/docker-entrypoint.sh\"].";
            yield break;
        }

        var source = finalStage.Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from=", StringComparison.Ordinal))
            .Select(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length == 2 && (parts[1] == path || (parts[1].EndsWith('/') && parts[1] + Path.GetFileName(parts[0]) == path)))
            .Select(parts => parts[0])
            .FirstOrDefault();
        if (source is null)
        {
            yield return $"Dockerfile: ENTRYPOINT {path} is not copied into the final stage.";
            yield break;
        }

        var script = Path.Combine(repositoryRoot, source);
        if (!File.Exists(script))
        {
            yield return $"Dockerfile: ENTRYPOINT source {source} does not exist.";
            yield break;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(script) & UnixFileMode.UserExecute) == 0)
        {
            yield return $"Dockerfile: ENTRYPOINT source {source} is not executable; run chmod +x on it.";
        }

        if (appDirectory is not null && !File.ReadAllText(script).Contains($"DEEPGEN_APP_DIR:-{appDirectory}}}", StringComparison.Ordinal))
        {
            yield return $"Dockerfile: {source} does not run the programs from {appDirectory}, where the final stage puts them.";
        }
    }

    private static string[]? ExecForm(string? arguments)
    {
        try
        {
            return string.IsNullOrEmpty(arguments) ? null : JsonSerializer.Deserialize<string[]>(arguments);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"\\\r?\n")]
    private static partial Regex ContinuationLine();

    [GeneratedRegex(@"dotnet publish (?<project>\S+\.csproj)[^&]*?-o (?<output>\S+)")]
    private static partial Regex PublishCommand();
}
