using System.Net;
using Akka.Actor;
using DeepGen.Distributed.Cluster;
using YamlDotNet.RepresentationModel;
using static DeepGen.Distributed.Tests.Deploy.DeployFiles;

namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>
/// Checks the compose file and the Kubernetes manifests against the programs' options. Each
/// check returns the problems it finds, one sentence each, so that a test can assert on a list
/// and a mutated copy of a file can show which rule caught it.
/// </summary>
internal static class DeployChecks
{
    /// <summary>Checks the compose file: roles, variables, ports, the seed node and the shared network.</summary>
    public static List<string> Compose(string yaml, ProgramHelp help)
    {
        var compose = Documents(yaml).Single();
        var services = ComposeServices(compose);
        var problems = new List<string>();
        var coordinators = services.Where(s => s.Value.Role == ClusterRoles.Coordinator).ToList();
        if (coordinators.Count != 1)
        {
            problems.Add($"compose: {coordinators.Count} services run the coordinator role; expected exactly 1.");
            return problems;
        }

        var (coordinatorName, coordinator) = coordinators[0];
        var workers = services.Values.Where(s => s.Role == ClusterRoles.Worker).ToList();
        problems.AddRange(Cluster(coordinator, workers, coordinatorName, help, expectedWorkerHost: null));

        var declared = Mapping(compose, "networks")?.Children.Keys.Select(Text).ToHashSet(StringComparer.Ordinal) ?? [];
        var shared = ComposeNetworks(compose, coordinatorName).Where(declared.Contains).ToHashSet(StringComparer.Ordinal);
        if (shared.Count == 0)
        {
            problems.Add($"compose service {coordinatorName} is on no user-defined network; list one from the top-level networks.");
        }

        foreach (var (name, _) in services.Where(s => s.Value.Role == ClusterRoles.Worker))
        {
            if (!ComposeNetworks(compose, name).Overlaps(shared))
            {
                problems.Add($"compose service {name} shares no user-defined network with {coordinatorName}; workers could not reach the seed node.");
            }
        }

        return problems;
    }

    /// <summary>Checks the Kubernetes manifests: workloads, Services, the seed node, variables, ports and volume claims.</summary>
    public static List<string> Kubernetes(IEnumerable<string> yamlFiles, ProgramHelp help)
    {
        var documents = yamlFiles.SelectMany(Documents).ToList();
        var problems = new List<string>();
        var workloads = documents.Where(d => Text(Child(d, "kind")) is "Job" or "Deployment" or "StatefulSet").ToList();
        var containers = workloads.Select(w => (Workload: w, Container: PodContainer(w))).ToList();
        var services = documents.Where(d => Text(Child(d, "kind")) == "Service").ToList();

        var coordinators = containers.Where(c => c.Container.Role == ClusterRoles.Coordinator).ToList();
        if (coordinators.Count != 1 || coordinators[0].Container.Replicas != 1)
        {
            problems.Add($"k8s: {coordinators.Count} workloads run the coordinator role; expected exactly 1, with 1 replica.");
            return problems;
        }

        var coordinator = coordinators[0].Container;
        var coordinatorServices = services.Where(s => Selects(s, coordinator)).ToList();
        if (coordinatorServices.Count != 1)
        {
            problems.Add($"k8s: {coordinatorServices.Count} Services select the coordinator pod; expected 1, whose name is the seed node's host.");
            return problems;
        }

        var coordinatorService = coordinatorServices[0];
        var coordinatorName = Text(Child(Mapping(coordinatorService, "metadata"), "name"));
        problems.AddRange(ServicePorts(coordinatorService, coordinator, ["DEEPGEN_PORT"]));

        var workers = containers.Where(c => c.Container.Role == ClusterRoles.Worker).ToList();
        foreach (var (workload, worker) in workers)
        {
            if (Text(Child(workload, "kind")) != "StatefulSet")
            {
                problems.Add($"{worker.Source}: workers must be a StatefulSet, so that each pod has a stable name.");
                continue;
            }

            var serviceName = Text(Child(Mapping(workload, "spec"), "serviceName"));
            var service = services.FirstOrDefault(s => Text(Child(Mapping(s, "metadata"), "name")) == serviceName);
            if (service is null || !Selects(service, worker))
            {
                problems.Add($"{worker.Source}: serviceName '{serviceName}' names no Service that selects its pods.");
                continue;
            }

            problems.AddRange(ServicePorts(service, worker, ["DEEPGEN_PORT", "DEEPGEN_DATA_PLANE_PORT"]));
        }

        problems.AddRange(Cluster(coordinator, workers.Select(w => w.Container).ToList(), coordinatorName, help, expectedWorkerHost: "fieldRef:status.podIP"));

        var claims = documents.Where(d => Text(Child(d, "kind")) == "PersistentVolumeClaim").Select(d => Text(Child(Mapping(d, "metadata"), "name"))).ToHashSet(StringComparer.Ordinal);
        foreach (var workload in workloads)
        {
            var volumes = Sequence(Mapping(Mapping(Mapping(workload, "spec"), "template"), "spec"), "volumes")?.Children.OfType<YamlMappingNode>() ?? [];
            foreach (var claim in volumes.Select(v => Text(Child(Mapping(v, "persistentVolumeClaim"), "claimName"))).Where(c => c.Length > 0))
            {
                if (!claims.Contains(claim))
                {
                    problems.Add($"{PodContainer(workload).Source}: PersistentVolumeClaim '{claim}' is not defined in the manifests.");
                }
            }
        }

        return problems;
    }

    /// <summary>Checks the rules that compose and Kubernetes share.</summary>
    /// <param name="coordinatorName">DNS name under which workers reach the coordinator: the compose service or the Kubernetes Service.</param>
    /// <param name="expectedWorkerHost">Required DEEPGEN_HOST of workers, or null where it must be unset so that the entry point fills in the container's address.</param>
    private static List<string> Cluster(DeployContainer coordinator, List<DeployContainer> workers, string coordinatorName, ProgramHelp help, string? expectedWorkerHost)
    {
        var problems = new List<string>();
        if (workers.Count == 0)
        {
            problems.Add("No container runs the worker role.");
        }

        foreach (var container in workers.Prepend(coordinator))
        {
            problems.AddRange(Options(container, help));
        }

        var coordinatorPort = ParsePort(coordinator.Variable("DEEPGEN_PORT") ?? "");
        problems.AddRange(FixedPort(coordinator, "DEEPGEN_PORT"));
        if (coordinator.Variable("DEEPGEN_HOST") != coordinatorName)
        {
            problems.Add($"{coordinator.Source}: DEEPGEN_HOST is '{coordinator.Variable("DEEPGEN_HOST")}'; it must be '{coordinatorName}', the name workers dial, because Akka.Remote drops messages addressed to any other name.");
        }

        if (!IPAddress.TryParse(coordinator.Variable("DEEPGEN_HOST") ?? "", out _) && coordinator.Variable("DEEPGEN_BIND_HOST") is null)
        {
            problems.Add($"{coordinator.Source}: DEEPGEN_HOST is a DNS name, so DEEPGEN_BIND_HOST must give the address to bind, such as 0.0.0.0.");
        }

        var replicas = workers.Sum(w => w.Replicas);
        if (ParsePort(coordinator.Variable("DEEPGEN_WORKERS") ?? "") != replicas)
        {
            problems.Add($"{coordinator.Source}: DEEPGEN_WORKERS is '{coordinator.Variable("DEEPGEN_WORKERS")}' but {replicas} worker replicas are declared.");
        }

        var data = coordinator.Variable("DEEPGEN_DATA");
        if (data is null)
        {
            problems.Add($"{coordinator.Source}: DEEPGEN_DATA is not set; give the path where the dataset volume is mounted.");
        }

        foreach (var container in workers.Prepend(coordinator).Where(c => data is not null && !c.MountPaths.Contains(data)))
        {
            problems.Add($"{container.Source}: no volume is mounted at DEEPGEN_DATA {data}, which workers read as well.");
        }

        foreach (var worker in workers)
        {
            problems.AddRange(FixedPort(worker, "DEEPGEN_PORT"));
            problems.AddRange(FixedPort(worker, "DEEPGEN_DATA_PLANE_PORT"));
            if (worker.Variable("DEEPGEN_HOST") != expectedWorkerHost)
            {
                problems.Add($"{worker.Source}: DEEPGEN_HOST is '{worker.Variable("DEEPGEN_HOST")}'; expected {expectedWorkerHost ?? "no value (the entry point uses the container's address)"}, because each replica must advertise its own address.");
            }

            problems.AddRange(SeedNodes(worker, coordinatorName, coordinatorPort));
        }

        return problems;
    }

    /// <summary>Checks the role and that the role's program has every option and DEEPGEN_* variable the container sets.</summary>
    private static IEnumerable<string> Options(DeployContainer container, ProgramHelp help)
    {
        if (container.Role is not (ClusterRoles.Coordinator or ClusterRoles.Worker))
        {
            yield return $"{container.Source}: role '{container.Role}' is invalid; the first argument must be coordinator or worker.";
            yield break;
        }

        var program = ProgramHelp.ProgramOf(container.Role);
        foreach (var variable in container.Environment.Keys.Where(v => v.StartsWith("DEEPGEN_", StringComparison.Ordinal)))
        {
            if (!help.ReadsVariable(container.Role, variable))
            {
                yield return $"{container.Source}: {variable} is not read by {program}; its --help lists the variables it reads.";
            }
        }

        foreach (var option in container.Arguments.Skip(1).Where(a => a.StartsWith("--", StringComparison.Ordinal)))
        {
            if (!help.HasOption(container.Role, option))
            {
                yield return $"{container.Source}: option {option} is not an option of {program}.";
            }
        }
    }

    private static IEnumerable<string> FixedPort(DeployContainer container, string variable)
    {
        var port = ParsePort(container.Variable(variable) ?? "");
        if (port is < 1 or > 65535)
        {
            yield return $"{container.Source}: {variable} is '{container.Variable(variable)}'; a deployment needs a fixed port from 1 to 65535.";
        }
        else if (!container.Ports.Contains(port))
        {
            yield return $"{container.Source}: {variable} {port} is not among the container's declared ports ({string.Join(", ", container.Ports.Order())}).";
        }
    }

    private static IEnumerable<string> SeedNodes(DeployContainer worker, string coordinatorName, int coordinatorPort)
    {
        var seeds = (worker.Variable("DEEPGEN_SEED_NODES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (seeds.Length == 0)
        {
            yield return $"{worker.Source}: DEEPGEN_SEED_NODES is not set.";
        }

        var expected = $"akka.tcp://{ClusterRoles.SystemName}@{coordinatorName}:{coordinatorPort}";
        foreach (var seed in seeds)
        {
            Address? address = null;
            try
            {
                address = Address.Parse(seed);
            }
            catch (UriFormatException)
            {
            }

            // A fully qualified name such as NAME.NAMESPACE.svc.cluster.local also reaches the Service.
            var hostMatches = address?.Host == coordinatorName || (address?.Host?.StartsWith(coordinatorName + ".", StringComparison.Ordinal) ?? false);
            if (address is null || address.Protocol != "akka.tcp" || address.System != ClusterRoles.SystemName || !hostMatches || address.Port != coordinatorPort)
            {
                yield return $"{worker.Source}: seed node '{seed}' does not point at the coordinator; expected {expected}.";
            }
        }
    }

    /// <summary>Checks that a Service is headless and forwards each port variable to a port of the container.</summary>
    private static IEnumerable<string> ServicePorts(YamlMappingNode service, DeployContainer container, IEnumerable<string> variables)
    {
        var name = Text(Child(Mapping(service, "metadata"), "name"));
        var spec = Mapping(service, "spec");
        if (Text(Child(spec, "clusterIP")) != "None")
        {
            yield return $"k8s Service {name}: clusterIP must be None (headless), so that its DNS name resolves to the pod address that Akka.Remote advertises.";
        }

        var ports = (Sequence(spec, "ports")?.Children.OfType<YamlMappingNode>() ?? []).ToList();
        foreach (var variable in variables)
        {
            var port = ParsePort(container.Variable(variable) ?? "");
            var match = ports.FirstOrDefault(p => ParsePort(Text(Child(p, "port"))) == port);
            if (match is null)
            {
                yield return $"k8s Service {name}: no port {port}, the {variable} of {container.Source}.";
                continue;
            }

            var target = Text(Child(match, "targetPort"));
            var targetPort = target.Length == 0 ? port : container.PortNames.TryGetValue(target, out var named) ? named : ParsePort(target);
            if (targetPort != port)
            {
                yield return $"k8s Service {name}: port {port} forwards to '{target}', which is not container port {port} of {container.Source}.";
            }
        }
    }

    private static bool Selects(YamlMappingNode service, DeployContainer container)
    {
        var selector = StringMap(Mapping(Mapping(service, "spec"), "selector"));
        return selector.Count > 0 && selector.All(pair => container.Labels.GetValueOrDefault(pair.Key) == pair.Value);
    }
}
