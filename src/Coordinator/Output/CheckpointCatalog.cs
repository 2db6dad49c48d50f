using System.Globalization;
using System.Text.RegularExpressions;

namespace DeepGen.Distributed.Coordinator.Output;

/// <summary>A checkpoint file of a run folder and the step its name gives.</summary>
public sealed record CheckpointFile(string Path, long Step, bool Final);

/// <summary>
/// Finds the checkpoints of a run folder. Step checkpoints are named <c>step-NNNNNNNN.ckpt</c>,
/// epoch checkpoints <c>epoch-NNN.ckpt</c>, and the last one <c>final.ckpt</c>. The step of an epoch
/// checkpoint is read from its header, because the name gives only the epoch.
/// </summary>
public static partial class CheckpointCatalog
{
    /// <summary>Step and epoch checkpoints of <paramref name="runDirectory"/>, newest (highest step) first.</summary>
    public static IReadOnlyList<CheckpointFile> Rolling(string runDirectory) =>
        All(runDirectory).Where(c => !c.Final).ToList();

    /// <summary>Every checkpoint of <paramref name="runDirectory"/>, newest first; final.ckpt first of all.</summary>
    /// <remarks>A file whose header cannot be read still appears (with step -1, last), so that loading it reports why.</remarks>
    public static IReadOnlyList<CheckpointFile> All(string runDirectory)
    {
        var folder = System.IO.Path.Combine(runDirectory, "checkpoints");
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var files = new List<CheckpointFile>();
        foreach (var path in Directory.EnumerateFiles(folder, "*.ckpt"))
        {
            var name = System.IO.Path.GetFileName(path);
            if (name == "final.ckpt")
            {
                files.Add(new CheckpointFile(path, long.MaxValue, true));
                continue;
            }

            var stepMatch = StepName().Match(name);
            if (stepMatch.Success)
            {
                files.Add(new CheckpointFile(path, long.Parse(stepMatch.Groups[1].Value, CultureInfo.InvariantCulture), false));
            }
            else if (EpochName().IsMatch(name))
            {
                files.Add(new CheckpointFile(path, Checkpoint.TryReadStep(path) ?? -1, false));
            }
        }

        return files.OrderByDescending(f => f.Step).ThenBy(f => f.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>File name of the step checkpoint after <paramref name="step"/>.</summary>
    public static string StepFileName(long step) => $"step-{step.ToString("00000000", CultureInfo.InvariantCulture)}.ckpt";

    [GeneratedRegex(@"^step-(\d{1,18})\.ckpt$")]
    private static partial Regex StepName();

    [GeneratedRegex(@"^epoch-\d+\.ckpt$")]
    private static partial Regex EpochName();
}
