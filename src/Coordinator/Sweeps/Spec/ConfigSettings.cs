using System.Globalization;
using DeepGen.Distributed.Configuration;

namespace DeepGen.Distributed.Coordinator.Sweeps.Spec;

/// <summary>Value type of a training setting.</summary>
public enum SettingType
{
    WholeNumber,
    Real,
    Text,
}

/// <summary>
/// The <see cref="TrainingConfig"/> settings that a sweep spec may set in <c>base</c> or search in
/// <c>parameters</c>. Names are the <c>deepgen train</c> options without the dashes, with
/// underscores: <c>--batch-size</c> is <c>batch_size</c>, <c>--lr-discriminator</c> (α_D) is
/// <c>lr_discriminator</c>.
/// </summary>
public static class ConfigSettings
{
    private static readonly Dictionary<string, (SettingType Type, Func<TrainingConfig, string, TrainingConfig> Apply)> Settings = new(StringComparer.Ordinal)
    {
        ["model"] = (SettingType.Text, (c, v) => c with { Model = v }),
        ["workers"] = (SettingType.WholeNumber, (c, v) => c with { Workers = Int(v) }),
        ["epochs"] = (SettingType.WholeNumber, (c, v) => c with { Epochs = Int(v) }),
        ["batch_size"] = (SettingType.WholeNumber, (c, v) => c with { BatchSizePerWorker = Int(v) }),
        ["lr"] = (SettingType.Real, (c, v) => c with { LearningRate = Real(v) }),
        ["optimizer"] = (SettingType.Text, (c, v) => c with { Optimizer = v }),
        ["seed"] = (SettingType.WholeNumber, (c, v) => c with { Seed = Int(v) }),
        ["hidden_size"] = (SettingType.WholeNumber, (c, v) => c with { HiddenSize = Int(v) }),
        ["latent_size"] = (SettingType.WholeNumber, (c, v) => c with { LatentSize = Int(v) }),
        ["beta"] = (SettingType.Real, (c, v) => c with { Beta = Real(v) }),
        ["weight_decay"] = (SettingType.Real, (c, v) => c with { WeightDecay = Real(v) }),
        ["data"] = (SettingType.Text, (c, v) => c with { DataDirectory = v }),
        ["train_limit"] = (SettingType.WholeNumber, (c, v) => c with { TrainLimit = Int(v) }),
        ["test_limit"] = (SettingType.WholeNumber, (c, v) => c with { TestLimit = Int(v) }),
        ["threads"] = (SettingType.WholeNumber, (c, v) => c with { ThreadsPerWorker = Int(v) }),
        ["collective_timeout"] = (SettingType.Real, (c, v) => c with { CollectiveTimeoutSeconds = Real(v) }),
        ["checksum_every"] = (SettingType.WholeNumber, (c, v) => c with { ChecksumEverySteps = Int(v) }),
        ["wire_format"] = (SettingType.Text, (c, v) => c with { WireFormat = v }),
        ["gan_architecture"] = (SettingType.Text, (c, v) => c with { GanArchitecture = v }),
        ["lr_discriminator"] = (SettingType.Real, (c, v) => c with { DiscriminatorLearningRate = Real(v) }),
        ["lr_generator"] = (SettingType.Real, (c, v) => c with { GeneratorLearningRate = Real(v) }),
        ["d_steps"] = (SettingType.WholeNumber, (c, v) => c with { DiscriminatorSteps = Int(v) }),
        ["eval_every"] = (SettingType.WholeNumber, (c, v) => c with { EvaluateEverySteps = Int(v) }),
        ["fid_classifier"] = (SettingType.Text, (c, v) => c with { FidClassifier = v }),
        ["inject_nan_at_step"] = (SettingType.WholeNumber, (c, v) => c with { InjectNanAtStep = long.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture) }),
        ["lr_schedule"] = (SettingType.Text, (c, v) => c with { LearningRateSchedule = v }),
        ["deletion_augmentation"] = (SettingType.Real, (c, v) => c with { DeletionAugmentation = Real(v) }),
        ["min_workers"] = (SettingType.WholeNumber, (c, v) => c with { MinWorkers = Int(v) }),
        ["checkpoint_every"] = (SettingType.WholeNumber, (c, v) => c with { CheckpointEverySteps = Int(v) }),
        ["keep_checkpoints"] = (SettingType.WholeNumber, (c, v) => c with { KeepCheckpoints = Int(v) }),
    };

    /// <summary>Every accepted setting name, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Settings.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The value type of setting <paramref name="name"/>, or null when there is no such setting.</summary>
    public static SettingType? TypeOf(string name) => Settings.TryGetValue(name, out var setting) ? setting.Type : null;

    /// <summary>True when <paramref name="text"/> is a valid value of a setting of type <paramref name="type"/>.</summary>
    public static bool IsValid(SettingType type, string text) => type switch
    {
        SettingType.WholeNumber => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        SettingType.Real => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value),
        _ => true,
    };

    /// <summary>Returns <paramref name="config"/> with setting <paramref name="name"/> set to <paramref name="value"/>.</summary>
    /// <exception cref="KeyNotFoundException">No setting has that name.</exception>
    /// <exception cref="FormatException">The value does not parse as the setting's type.</exception>
    public static TrainingConfig Apply(TrainingConfig config, string name, string value) => Settings[name].Apply(config, value);

    /// <summary>Returns <paramref name="config"/> with every parameter value applied in order.</summary>
    public static TrainingConfig ApplyAll(TrainingConfig config, IReadOnlyDictionary<string, string> values) =>
        values.Aggregate(config, (current, pair) => Apply(current, pair.Key, pair.Value));

    private static int Int(string text) => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static double Real(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
