namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>
/// One container of a deployment, as the compose file or a Kubernetes pod template declares it.
/// </summary>
/// <param name="Source">Where it is declared, for problem messages: "compose service worker" or "k8s StatefulSet deepgen-worker".</param>
/// <param name="Arguments">Arguments after the image's entry point; the first is the role.</param>
/// <param name="Environment">
/// Variables by name. A value taken from the Kubernetes downward API reads <c>fieldRef:PATH</c>,
/// for example <c>fieldRef:status.podIP</c>.
/// </param>
/// <param name="Ports">Container ports it declares: compose <c>expose</c>, Kubernetes <c>containerPort</c>.</param>
/// <param name="PortNames">Kubernetes port names and their numbers, which a Service's <c>targetPort</c> may use.</param>
/// <param name="MountPaths">Paths where volumes are mounted inside the container.</param>
/// <param name="Replicas">Number of copies; 1 where the file gives none.</param>
/// <param name="Labels">Pod labels (Kubernetes only; empty for compose).</param>
internal sealed record DeployContainer(
    string Source,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlySet<int> Ports,
    IReadOnlyDictionary<string, int> PortNames,
    IReadOnlySet<string> MountPaths,
    int Replicas,
    IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>Role from the first argument: coordinator or worker, or empty when there is none.</summary>
    public string Role => Arguments.Count > 0 ? Arguments[0] : "";

    public string? Variable(string name) => Environment.GetValueOrDefault(name);
}
