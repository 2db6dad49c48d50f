using static DeepGen.Distributed.Tests.Deploy.DeployFiles;

namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>
/// Docker and Kubernetes do not run in the test environment, so these tests parse deploy/ and
/// check its files against the programs' --help output. The mutation tests change one value in a
/// copy of a file and show that the check reports it.
/// </summary>
public sealed class DeployManifestTests
{
    private static string ComposeText => File.ReadAllText(Path.Combine(DeployDirectory, "docker-compose.yml"));

    private static string DockerfileText => File.ReadAllText(Path.Combine(DeployDirectory, "Dockerfile"));

    private static Dictionary<string, string> KubernetesTexts =>
        Directory.GetFiles(Path.Combine(DeployDirectory, "k8s"), "*.yaml").Order(StringComparer.Ordinal).ToDictionary(path => Path.GetFileName(path), File.ReadAllText);

    [Fact]
    public void Compose_file_matches_program_options()
    {
        var problems = DeployChecks.Compose(ComposeText, ProgramHelp.Current);

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [InlineData("DEEPGEN_DATA_PLANE_PORT: \"4054\"", "DEEPGEN_DATA_PLANE_PORT: \"4055\"", "DEEPGEN_DATA_PLANE_PORT 4055 is not among the container's declared ports")]
    [InlineData("DEEPGEN_WORKER_WAIT_TIMEOUT:", "DEEPGEN_WAIT_TIMEOUT:", "DEEPGEN_WAIT_TIMEOUT is not read by deepgen train")]
    [InlineData("DEEPGEN_THREADS:", "DEEPGEN_DATA:", "DEEPGEN_DATA is not read by deepgen-worker")]
    [InlineData("akka.tcp://deepgen@coordinator:4053", "akka.tcp://training@coordinator:4053", "seed node 'akka.tcp://training@coordinator:4053' does not point at the coordinator")]
    [InlineData("replicas: ${DEEPGEN_WORKERS:-2}", "replicas: 3", "but 3 worker replicas are declared")]
    [InlineData("command: [\"worker\"]", "command: [\"worker\", \"--epochs\", \"2\"]", "option --epochs is not an option of deepgen-worker")]
    [InlineData("DEEPGEN_HOST: coordinator", "DEEPGEN_HOST: trainer", "DEEPGEN_HOST is 'trainer'")]
    public void Compose_check_catches_mutation(string original, string mutated, string expectedProblem)
    {
        var problems = DeployChecks.Compose(Mutate(ComposeText, original, mutated), ProgramHelp.Current);

        Assert.Contains(problems, p => p.Contains(expectedProblem, StringComparison.Ordinal));
    }

    [Fact]
    public void Compose_check_requires_shared_network()
    {
        var text = Mutate(ComposeText, "    networks:\n      - cluster\n    deploy:", "    deploy:");

        var problems = DeployChecks.Compose(text, ProgramHelp.Current);

        Assert.Contains(problems, p => p.Contains("compose service worker shares no user-defined network", StringComparison.Ordinal));
    }

    [Fact]
    public void Kubernetes_manifests_match_program_options()
    {
        var problems = DeployChecks.Kubernetes(KubernetesTexts.Values, ProgramHelp.Current);

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [InlineData("coordinator.yaml", "      port: 4053", "      port: 4063", "k8s Service deepgen-coordinator: no port 4053")]
    [InlineData("coordinator.yaml", "clusterIP: None", "clusterIP: 10.0.0.10", "k8s Service deepgen-coordinator: clusterIP must be None")]
    [InlineData("workers.yaml", "akka.tcp://deepgen@deepgen-coordinator:4053", "akka.tcp://deepgen@coordinator:4053", "does not point at the coordinator")]
    [InlineData("workers.yaml", "fieldPath: status.podIP", "fieldPath: status.hostIP", "DEEPGEN_HOST is 'fieldRef:status.hostIP'")]
    [InlineData("workers.yaml", "name: DEEPGEN_DATA_PLANE_PORT", "name: DEEPGEN_DATAPLANE_PORT", "DEEPGEN_DATAPLANE_PORT is not read by deepgen-worker")]
    [InlineData("workers.yaml", "targetPort: data-plane", "targetPort: 4055", "port 4054 forwards to '4055'")]
    [InlineData("workers.yaml", "  replicas: 2", "  replicas: 4", "but 4 worker replicas are declared")]
    [InlineData("workers.yaml", "kind: StatefulSet", "kind: Deployment", "workers must be a StatefulSet")]
    [InlineData("storage.yaml", "name: deepgen-runs", "name: runs", "PersistentVolumeClaim 'deepgen-runs' is not defined")]
    public void Kubernetes_check_catches_mutation(string file, string original, string mutated, string expectedProblem)
    {
        var texts = KubernetesTexts;
        texts[file] = Mutate(texts[file], original, mutated);

        var problems = DeployChecks.Kubernetes(texts.Values, ProgramHelp.Current);

        Assert.Contains(problems, p => p.Contains(expectedProblem, StringComparison.Ordinal));
    }

    [Fact]
    public void Dockerfile_uses_noble_images_and_copied_entrypoint()
    {
        var problems = DockerfileChecks.Check(DockerfileText, ProcessRunner.RepositoryRoot, ComposePorts());

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [InlineData("aspnet:10.0-noble", "aspnet:10.0-bookworm-slim", "base image mcr.microsoft.com/dotnet/aspnet:10.0-bookworm-slim is not a .NET 10 image on Ubuntu 24.04")]
    [InlineData("sdk:10.0-noble", "sdk:9.0-noble", "base image mcr.microsoft.com/dotnet/sdk:9.0-noble is not a .NET 10 image")]
    [InlineData("ENTRYPOINT [\"/app/docker-entrypoint.sh\"]", "ENTRYPOINT [\"/app/start.sh\"]", "ENTRYPOINT /app/start.sh is not copied into the final stage")]
    [InlineData("EXPOSE 4053 4054", "EXPOSE 4053", "port 4054, which the deployment files use, is not in EXPOSE")]
    [InlineData("COPY --from=build /app /app", "COPY --from=build /app /opt/deepgen", "does not run the programs from /opt/deepgen")]
    [InlineData("CMD [\"worker\"]", "CMD [\"trainer\"]", "CMD must be in exec form and start with a role")]
    public void Dockerfile_check_catches_mutation(string original, string mutated, string expectedProblem)
    {
        var problems = DockerfileChecks.Check(Mutate(DockerfileText, original, mutated), ProcessRunner.RepositoryRoot, ComposePorts());

        Assert.Contains(problems, p => p.Contains(expectedProblem, StringComparison.Ordinal));
    }

    /// <summary>Ports that the compose file sets through DEEPGEN_PORT and DEEPGEN_DATA_PLANE_PORT, which the image must expose.</summary>
    private static HashSet<int> ComposePorts() =>
        ComposeServices(Documents(ComposeText).Single()).Values
            .SelectMany(s => new[] { s.Variable("DEEPGEN_PORT"), s.Variable("DEEPGEN_DATA_PLANE_PORT") })
            .OfType<string>()
            .Select(ParsePort)
            .ToHashSet();

    /// <summary>Replaces <paramref name="original"/>, which must occur in the text, so that a mutation test cannot pass by changing nothing.</summary>
    private static string Mutate(string text, string original, string mutated)
    {
        Assert.Contains(original, text, StringComparison.Ordinal);
        return text.Replace(original, mutated, StringComparison.Ordinal);
    }
}
