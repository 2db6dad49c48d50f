using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>Reads the containers out of the compose file and the Kubernetes manifests.</summary>
internal static partial class DeployFiles
{
    public static string DeployDirectory => Path.Combine(ProcessRunner.RepositoryRoot, "deploy");

    /// <summary>Parses YAML text that may contain several documents.</summary>
    public static IReadOnlyList<YamlMappingNode> Documents(string yaml)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(yaml);
        stream.Load(reader);
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    /// <summary>Reads one container per compose service; the service name is the key of the result.</summary>
    /// <remarks>Variables such as <c>${DEEPGEN_WORKERS:-2}</c> take their default, as <c>docker compose</c> does when the variable is unset.</remarks>
    public static IReadOnlyDictionary<string, DeployContainer> ComposeServices(YamlMappingNode compose)
    {
        var services = new Dictionary<string, DeployContainer>(StringComparer.Ordinal);
        foreach (var (key, node) in Mapping(compose, "services")?.Children.AsEnumerable() ?? [])
        {
            var name = ((YamlScalarNode)key).Value!;
            var service = (YamlMappingNode)node;
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            switch (Child(service, "environment"))
            {
                case YamlMappingNode map:
                    foreach (var (variable, value) in map.Children)
                    {
                        environment[Text(variable)] = Text(value);
                    }

                    break;
                case YamlSequenceNode list:
                    foreach (var entry in list.Children.Select(Text))
                    {
                        var parts = entry.Split('=', 2);
                        environment[parts[0]] = parts.Length == 2 ? parts[1] : "";
                    }

                    break;
            }

            var ports = Strings(Child(service, "expose")).Select(p => ParsePort(p.Split('/')[0])).ToHashSet();
            var mounts = (Sequence(service, "volumes")?.Children ?? []).Select(ComposeMountPath).ToHashSet(StringComparer.Ordinal);
            var replicas = Mapping(service, "deploy") is { } deploy && Child(deploy, "replicas") is { } count ? ParsePort(Text(count)) : 1;
            services[name] = new DeployContainer($"compose service {name}", Strings(Child(service, "command")), environment, ports, new Dictionary<string, int>(), mounts, replicas, new Dictionary<string, string>());
        }

        return services;
    }

    /// <summary>Returns the networks a compose service is attached to.</summary>
    public static IReadOnlySet<string> ComposeNetworks(YamlMappingNode compose, string service) =>
        (Child(Mapping(Mapping(compose, "services"), service), "networks") switch
        {
            YamlSequenceNode list => list.Children.Select(Text),
            YamlMappingNode map => map.Children.Keys.Select(Text),
            _ => [],
        }).ToHashSet(StringComparer.Ordinal);

    /// <summary>Reads the first container of the pod template of a Job, Deployment or StatefulSet.</summary>
    public static DeployContainer PodContainer(YamlMappingNode workload)
    {
        var kind = Text(Child(workload, "kind"));
        var name = Text(Child(Mapping(workload, "metadata"), "name"));
        var template = Mapping(Mapping(workload, "spec"), "template");
        var container = Sequence(Mapping(template, "spec"), "containers")?.Children.OfType<YamlMappingNode>().FirstOrDefault()
            ?? throw new InvalidDataException($"{kind} {name} has no containers.");

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in Sequence(container, "env")?.Children.OfType<YamlMappingNode>() ?? [])
        {
            var field = Child(Mapping(Mapping(variable, "valueFrom"), "fieldRef"), "fieldPath");
            environment[Text(Child(variable, "name"))] = field is null ? Text(Child(variable, "value")) : "fieldRef:" + Text(field);
        }

        var ports = new HashSet<int>();
        var portNames = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var port in Sequence(container, "ports")?.Children.OfType<YamlMappingNode>() ?? [])
        {
            var number = ParsePort(Text(Child(port, "containerPort")));
            ports.Add(number);
            if (Child(port, "name") is { } portName)
            {
                portNames[Text(portName)] = number;
            }
        }

        var mounts = (Sequence(container, "volumeMounts")?.Children.OfType<YamlMappingNode>() ?? []).Select(m => Text(Child(m, "mountPath"))).ToHashSet(StringComparer.Ordinal);
        var replicas = kind == "Job" ? 1 : Child(Mapping(workload, "spec"), "replicas") is { } count ? ParsePort(Text(count)) : 1;
        var labels = StringMap(Mapping(Mapping(template, "metadata"), "labels"));
        var arguments = Strings(Child(container, "command")).Count > 0
            ? ["(command overrides the image entry point)"]
            : Strings(Child(container, "args"));
        return new DeployContainer($"k8s {kind} {name}", arguments, environment, ports, portNames, mounts, replicas, labels);
    }

    public static YamlNode? Child(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    public static YamlMappingNode? Mapping(YamlMappingNode? node, string key) => Child(node, key) as YamlMappingNode;

    public static YamlSequenceNode? Sequence(YamlMappingNode? node, string key) => Child(node, key) as YamlSequenceNode;

    /// <summary>Returns a scalar's text with compose variables replaced by their defaults; empty for a missing node.</summary>
    public static string Text(YamlNode? node) =>
        node is YamlScalarNode { Value: { } value } ? Interpolation().Replace(value, m => m.Groups["default"].Value) : "";

    public static IReadOnlyDictionary<string, string> StringMap(YamlMappingNode? node) =>
        (node?.Children.AsEnumerable() ?? []).ToDictionary(pair => Text(pair.Key), pair => Text(pair.Value), StringComparer.Ordinal);

    /// <summary>Parses a port or count; an invalid one becomes -1, which matches no port and no count.</summary>
    public static int ParsePort(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : -1;

    private static List<string> Strings(YamlNode? node) => node switch
    {
        YamlSequenceNode list => list.Children.Select(Text).ToList(),
        YamlScalarNode scalar => Text(scalar).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList(),
        _ => [],
    };

    // Short syntax SOURCE:TARGET[:MODE] or the long syntax with a target key.
    private static string ComposeMountPath(YamlNode volume) => volume switch
    {
        YamlMappingNode map => Text(Child(map, "target")),
        _ => Text(volume).Split(':') is [_, var target, ..] ? target : Text(volume),
    };

    // ${NAME:-default} and ${NAME-default}; ${NAME} without a default becomes empty.
    [GeneratedRegex(@"\$\{[A-Za-z_][A-Za-z0-9_]*(:?-(?<default>[^}]*))?\}")]
    private static partial Regex Interpolation();
}
