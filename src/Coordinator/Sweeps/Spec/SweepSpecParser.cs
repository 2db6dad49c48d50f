using System.Globalization;
using DeepGen.Distributed.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DeepGen.Distributed.Coordinator.Sweeps.Spec;

/// <summary>
/// Reads a sweep spec from YAML and checks it completely before any trial starts. Every error
/// carries the line of the offending node (YamlDotNet's <c>Start</c> mark), so a user can fix the
/// file in one pass.
/// </summary>
/// <remarks>
/// Sections: <c>base</c> (settings shared by every trial, named as in <see cref="ConfigSettings"/>),
/// <c>parameters</c> (each with one of <c>grid</c>, <c>choice</c>, <c>uniform</c>, <c>log_uniform</c>,
/// <c>int</c>), <c>search</c> (<c>type</c>, <c>seed</c>, <c>samples</c>), <c>objective</c>
/// (<c>metric</c>, <c>mode</c>), <c>budget</c> (<c>max_trials</c>, <c>max_concurrent</c>) and
/// <c>scheduler</c> (<c>type</c>: <c>fifo</c>, <c>asha</c> or <c>asha_stopping</c>; <c>resource</c>, <c>grace_period</c>, <c>reduction_factor</c>,
/// <c>max_resource</c>).
/// </remarks>
public sealed class SweepSpecParser
{
    private static readonly string[] Sections = ["base", "parameters", "search", "objective", "budget", "scheduler"];
    private static readonly Dictionary<string, DistributionKind> Distributions = new(StringComparer.Ordinal)
    {
        ["grid"] = DistributionKind.Grid,
        ["choice"] = DistributionKind.Choice,
        ["uniform"] = DistributionKind.Uniform,
        ["log_uniform"] = DistributionKind.LogUniform,
        ["int"] = DistributionKind.IntegerRange,
    };

    private readonly List<SpecError> _errors = [];

    private SweepSpecParser()
    {
    }

    /// <summary>Parses and validates a spec file.</summary>
    /// <exception cref="SweepSpecException">The file is not valid YAML or breaks a rule; every error found is listed.</exception>
    public static SweepSpec ParseFile(string path) => Parse(File.ReadAllText(path));

    /// <summary>Parses and validates spec text.</summary>
    /// <exception cref="SweepSpecException">The text is not valid YAML or breaks a rule; every error found is listed.</exception>
    public static SweepSpec Parse(string yaml)
    {
        var parser = new SweepSpecParser();
        var spec = parser.Read(yaml);
        if (parser._errors.Count > 0 || spec is null)
        {
            throw new SweepSpecException([.. parser._errors.OrderBy(e => e.Line)]);
        }

        return spec;
    }

    private SweepSpec? Read(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException error)
        {
            Error(error.Start, $"invalid YAML: {error.InnerException?.Message ?? error.Message}");
            return null;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            _errors.Add(new SpecError(1, $"the spec must be a mapping with the sections {string.Join(", ", Sections)}."));
            return null;
        }

        foreach (var key in root.Children.Keys)
        {
            if (!Sections.Contains(Text(key), StringComparer.Ordinal))
            {
                Error(key.Start, $"unknown section '{Text(key)}'; use {string.Join(", ", Sections)}.");
            }
        }

        var (baseConfig, baseLines) = ReadBase(Section(root, "base"));
        var parameters = ReadParameters(Section(root, "parameters"), baseConfig);
        var search = ReadSearch(Section(root, "search"), parameters);
        var objective = ReadObjective(Section(root, "objective"), root, baseConfig);
        var budget = ReadBudget(Section(root, "budget"));
        var (scheduler, config) = ReadScheduler(Section(root, "scheduler"), baseConfig, baseLines);
        if (!baseLines.ContainsKey("checkpoint_every"))
        {
            // An interrupted trial resumes from its newest checkpoint. Checkpointing at every
            // evaluation means a resume retrains at most one evaluation interval, and the
            // checkpoint steps line up with the rungs. Without evaluations between epoch ends,
            // the epoch-end checkpoints are the only ones.
            config = config with { CheckpointEverySteps = config.EvaluateEverySteps };
        }

        return objective is null ? null : new SweepSpec(config, parameters, search, objective, budget, scheduler);
    }

    private (TrainingConfig Config, Dictionary<string, Mark> Lines) ReadBase(YamlMappingNode? node)
    {
        var config = new TrainingConfig();
        var lines = new Dictionary<string, Mark>(StringComparer.Ordinal);
        foreach (var (key, value) in node?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
        {
            var name = Text(key);
            if (ConfigSettings.TypeOf(name) is not { } type)
            {
                Error(key.Start, $"unknown setting '{name}' in base; use one of {string.Join(", ", ConfigSettings.Names)}.");
                continue;
            }

            if (Scalar(value, $"base.{name}") is not { } text)
            {
                continue;
            }

            if (!ConfigSettings.IsValid(type, text))
            {
                Error(value.Start, $"base.{name} '{text}' is not a valid {Describe(type)} value.");
                continue;
            }

            lines[name] = key.Start;
            config = ConfigSettings.Apply(config, name, text);
        }

        if (!lines.ContainsKey("data") && Environment.GetEnvironmentVariable("DEEPGEN_DATA") is { Length: > 0 } data)
        {
            config = config with { DataDirectory = data };
        }

        foreach (var message in config.Validate())
        {
            // Validate names the train option first (--batch-size ...); map it to the base key's line.
            var option = message.Split(' ')[0].TrimStart('-').Replace('-', '_');
            var line = lines.TryGetValue(option, out var mark) ? mark : node?.Start ?? Mark.Empty;
            Error(line, $"base: {message}");
        }

        return (config, lines);
    }

    private List<SweepParameter> ReadParameters(YamlMappingNode? node, TrainingConfig baseConfig)
    {
        var parameters = new List<SweepParameter>();
        if (node is null || node.Children.Count == 0)
        {
            Error(node?.Start ?? Mark.Empty, "parameters is missing or empty; list at least one searched setting, for example 'lr: {log_uniform: [1.0e-4, 1.0e-2]}'.");
            return parameters;
        }

        var baseErrors = baseConfig.Validate().ToHashSet(StringComparer.Ordinal);
        foreach (var (key, value) in node.Children)
        {
            var name = Text(key);
            var line = (int)key.Start.Line;
            if (ConfigSettings.TypeOf(name) is not { } type)
            {
                Error(key.Start, $"unknown parameter '{name}'; use one of {string.Join(", ", ConfigSettings.Names)}.");
                continue;
            }

            if (name is "model" or "data")
            {
                Error(key.Start, $"parameter '{name}' cannot be searched: every trial must report the same metrics on the same data; set it in base.");
                continue;
            }

            if (value is not YamlMappingNode distribution || distribution.Children.Count != 1)
            {
                Error(value.Start, $"parameter '{name}' needs exactly one of {string.Join(", ", Distributions.Keys)}, for example '{name}: {{grid: [1, 2]}}'.");
                continue;
            }

            var (kindNode, argumentsNode) = distribution.Children.First();
            if (!Distributions.TryGetValue(Text(kindNode), out var kind))
            {
                Error(kindNode.Start, $"parameter '{name}' has unknown distribution '{Text(kindNode)}'; use one of {string.Join(", ", Distributions.Keys)}.");
                continue;
            }

            if (ReadParameter(name, type, kind, argumentsNode, line) is { } parameter)
            {
                CheckValues(parameter, baseConfig, baseErrors);
                parameters.Add(parameter);
            }
        }

        return parameters;
    }

    private SweepParameter? ReadParameter(string name, SettingType type, DistributionKind kind, YamlNode arguments, int line)
    {
        if (arguments is not YamlSequenceNode sequence)
        {
            Error(arguments.Start, $"parameter '{name}': the values must be a list, for example [1, 2].");
            return null;
        }

        var values = sequence.Children.Select(c => Scalar(c, name)).ToList();
        if (values.Any(v => v is null))
        {
            return null;
        }

        var texts = values.Select(v => v!).ToList();
        if (kind is DistributionKind.Grid or DistributionKind.Choice)
        {
            if (texts.Count == 0)
            {
                Error(arguments.Start, $"parameter '{name}' has an empty range: list at least one value.");
                return null;
            }

            var invalid = texts.FirstOrDefault(t => !ConfigSettings.IsValid(type, t));
            if (invalid is not null)
            {
                Error(arguments.Start, $"parameter '{name}' value '{invalid}' is not a valid {Describe(type)} value.");
                return null;
            }

            return new SweepParameter(name, kind, texts, 0, 0, line);
        }

        return ReadRange(name, type, kind, texts, arguments.Start, line);
    }

    private SweepParameter? ReadRange(string name, SettingType type, DistributionKind kind, List<string> bounds, Mark start, int line)
    {
        var label = kind == DistributionKind.LogUniform ? "log_uniform" : kind.ToString().ToLowerInvariant();
        if (kind == DistributionKind.IntegerRange && type != SettingType.WholeNumber)
        {
            Error(start, $"parameter '{name}' is a {Describe(type)} setting; use uniform, log_uniform, grid or choice for it, not int.");
            return null;
        }

        if (kind != DistributionKind.IntegerRange && type != SettingType.Real)
        {
            Error(start, $"parameter '{name}' is a {Describe(type)} setting; {label} ranges are for real settings (use {(type == SettingType.WholeNumber ? "int" : "grid or choice")}).");
            return null;
        }

        var numbers = bounds.Select(b => double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : (double?)null).ToList();
        if (numbers.Count != 2 || numbers.Any(n => n is null) || (kind == DistributionKind.IntegerRange && numbers.Any(n => n != Math.Floor(n!.Value))))
        {
            Error(start, $"parameter '{name}': {label} takes two {(kind == DistributionKind.IntegerRange ? "integers" : "numbers")} [low, high].");
            return null;
        }

        var (low, high) = (numbers[0]!.Value, numbers[1]!.Value);
        if (kind == DistributionKind.LogUniform && (low <= 0 || high <= 0))
        {
            Error(start, $"parameter '{name}': log_uniform needs positive bounds, got [{bounds[0]}, {bounds[1]}]; use uniform for ranges that include 0.");
            return null;
        }

        var empty = kind == DistributionKind.IntegerRange ? low > high : low >= high;
        if (empty)
        {
            Error(start, $"parameter '{name}' has an empty range [{bounds[0]}, {bounds[1]}]: low must be below high{(kind == DistributionKind.IntegerRange ? " or equal to it" : "")}.");
            return null;
        }

        return new SweepParameter(name, kind, [], low, high, line);
    }

    /// <summary>Applies the extreme or listed values to the base settings and reports what <see cref="TrainingConfig.Validate"/> rejects.</summary>
    private void CheckValues(SweepParameter parameter, TrainingConfig baseConfig, HashSet<string> baseErrors)
    {
        var candidates = parameter.Kind is DistributionKind.Grid or DistributionKind.Choice
            ? parameter.Values
            : [Number(parameter.Low), Number(parameter.High)];
        foreach (var candidate in candidates)
        {
            var errors = ConfigSettings.Apply(baseConfig, parameter.Name, candidate).Validate().Where(e => !baseErrors.Contains(e));
            foreach (var message in errors)
            {
                _errors.Add(new SpecError(parameter.Line, $"parameter '{parameter.Name}' value {candidate}: {message}"));
            }
        }
    }

    private SweepSearch ReadSearch(YamlMappingNode? node, List<SweepParameter> parameters)
    {
        var type = Word(node, "search", "type", "grid", ["grid", "random"]);
        var seed = Integer(node, "search", "seed", 0, 0, int.MaxValue);
        if (type == "random")
        {
            var samples = Integer(node, "search", "samples", 0, 1, 100_000);
            if (samples == 0)
            {
                Error(node?.Start ?? Mark.Empty, "search.samples is missing; random search needs the number of trials to draw.");
            }

            return new SweepSearch(SearchKind.Random, seed, samples);
        }

        foreach (var parameter in parameters.Where(p => !p.IsDiscrete))
        {
            _errors.Add(new SpecError(parameter.Line, $"parameter '{parameter.Name}' is a continuous range, which grid search cannot enumerate; use grid or choice values, or search type random."));
        }

        foreach (var parameter in parameters.Where(p => p.Kind == DistributionKind.IntegerRange && p.High - p.Low + 1 > SweepParameter.MaxGridIntegers))
        {
            _errors.Add(new SpecError(parameter.Line, $"parameter '{parameter.Name}' spans more than {SweepParameter.MaxGridIntegers} integers, too many for grid search; use search type random."));
        }

        return new SweepSearch(SearchKind.Grid, seed, 0);
    }

    private SweepObjective? ReadObjective(YamlMappingNode? node, YamlMappingNode root, TrainingConfig baseConfig)
    {
        if (node is null)
        {
            Error(root.Start, "objective is missing; give 'objective: {metric: NAME, mode: min}'.");
            return null;
        }

        var metric = Scalar(node, "objective", "metric");
        var mode = Word(node, "objective", "mode", "min", ["min", "max"]);
        if (metric is null)
        {
            Error(node.Start, "objective.metric is missing; name one of the model's evaluation metrics.");
            return null;
        }

        if (ModelFamily.All.TryGetValue(baseConfig.Model, out var family) && !family.EvaluationMetrics.Contains(metric, StringComparer.Ordinal))
        {
            Error(node.Children[new YamlScalarNode("metric")].Start, $"objective.metric '{metric}' is not produced by model {family.Name}; use one of {string.Join(", ", family.EvaluationMetrics)}.");
        }

        return new SweepObjective(metric, mode == "max" ? ObjectiveMode.Max : ObjectiveMode.Min);
    }

    private SweepBudget ReadBudget(YamlMappingNode? node) =>
        new(Integer(node, "budget", "max_trials", 0, 1, 100_000), Integer(node, "budget", "max_concurrent", 0, 1, 10_000));

    private (SweepScheduler Scheduler, TrainingConfig Config) ReadScheduler(YamlMappingNode? node, TrainingConfig config, Dictionary<string, Mark> baseLines)
    {
        var kind = Word(node, "scheduler", "type", "fifo", ["fifo", "asha", "asha_stopping"]) switch
        {
            "asha" => SchedulerKind.Asha,
            "asha_stopping" => SchedulerKind.AshaStopping,
            _ => SchedulerKind.Fifo,
        };
        var unit = Word(node, "scheduler", "resource", "epochs", ["epochs", "steps"]) == "steps" ? ResourceUnit.Steps : ResourceUnit.Epochs;
        var grace = Integer(node, "scheduler", "grace_period", 1, 1, int.MaxValue);
        var reduction = Integer(node, "scheduler", "reduction_factor", 2, 2, 1_000);
        var maxResource = Integer(node, "scheduler", "max_resource", unit == ResourceUnit.Epochs ? config.Epochs : 0, 1, int.MaxValue);
        var scheduler = new SweepScheduler(kind, unit, grace, reduction, maxResource);
        var start = node?.Start ?? Mark.Empty;
        if (kind == SchedulerKind.Fifo)
        {
            return (scheduler, config);
        }

        if (unit == ResourceUnit.Epochs && maxResource > config.Epochs)
        {
            Error(KeyMark(node, "max_resource", start), $"scheduler.max_resource {maxResource} epochs exceeds base.epochs {config.Epochs}; a trial never gets that far.");
        }

        if (unit == ResourceUnit.Steps && maxResource == 0)
        {
            Error(start, "scheduler.max_resource is missing; with resource steps give the step count at which a trial is complete.");
        }
        else if (grace >= maxResource)
        {
            Error(KeyMark(node, "grace_period", start), $"scheduler.grace_period {grace} is not below max_resource {maxResource}, so ASHA has no rung; lower grace_period or use type fifo.");
        }

        if (unit == ResourceUnit.Steps)
        {
            // Rungs lie at grace·η^k steps, all multiples of the grace period, so an evaluation
            // every grace-period steps reaches each rung exactly.
            if (config.EvaluateEverySteps == 0)
            {
                config = config with { EvaluateEverySteps = grace };
            }
            else if (grace % config.EvaluateEverySteps != 0)
            {
                Error(baseLines.GetValueOrDefault("eval_every", start), $"base.eval_every {config.EvaluateEverySteps} does not divide scheduler.grace_period {grace}, so rungs would fall between evaluations; drop eval_every or make it a divisor.");
            }
        }

        return (scheduler, config);
    }

    private static YamlMappingNode? Section(YamlMappingNode root, string name) =>
        root.Children.TryGetValue(new YamlScalarNode(name), out var node) ? node as YamlMappingNode : null;

    private static Mark KeyMark(YamlMappingNode? node, string key, Mark fallback) =>
        node?.Children.Keys.FirstOrDefault(k => Text(k) == key)?.Start ?? fallback;

    private string? Scalar(YamlMappingNode? node, string section, string key)
    {
        if (node is null || !node.Children.TryGetValue(new YamlScalarNode(key), out var value))
        {
            return null;
        }

        return Scalar(value, $"{section}.{key}");
    }

    private string? Scalar(YamlNode node, string label)
    {
        if (node is YamlScalarNode { Value: { } text })
        {
            return text;
        }

        Error(node.Start, $"{label} must be a single value, not a list or mapping.");
        return null;
    }

    private string Word(YamlMappingNode? node, string section, string key, string fallback, string[] allowed)
    {
        var text = Scalar(node, section, key);
        if (text is null)
        {
            return fallback;
        }

        if (!allowed.Contains(text, StringComparer.Ordinal))
        {
            Error(node!.Children[new YamlScalarNode(key)].Start, $"{section}.{key} '{text}' is not available; use {string.Join(" or ", allowed)}.");
            return fallback;
        }

        return text;
    }

    private int Integer(YamlMappingNode? node, string section, string key, int fallback, int minimum, int maximum)
    {
        var text = Scalar(node, section, key);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < minimum || value > maximum)
        {
            Error(node!.Children[new YamlScalarNode(key)].Start, $"{section}.{key} '{text}' is invalid; give an integer from {minimum} to {maximum}.");
            return fallback;
        }

        return value;
    }

    private void Error(Mark mark, string message) => _errors.Add(new SpecError(Math.Max(1, (int)mark.Line), message));

    private static string Text(YamlNode node) => node is YamlScalarNode { Value: { } text } ? text : node.ToString();

    private static string Describe(SettingType type) => type switch
    {
        SettingType.WholeNumber => "integer",
        SettingType.Real => "real",
        _ => "text",
    };

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
