using System.Globalization;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Sweeps.Execution;

/// <summary>Chooses the checkpoint that an interrupted trial resumes from.</summary>
public static class TrialCheckpoints
{
    /// <summary>
    /// Returns the resume point of the newest checkpoint of <paramref name="runDirectory"/> that a run
    /// with <paramref name="config"/> can continue from, or null when there is none. Each rejected
    /// checkpoint is passed to <paramref name="log"/> with the reason: it fails the SHA-256 or format
    /// check, it was written with other training settings, or it has no steps left to train (the run
    /// stopped between its last epoch and the final evaluation).
    /// </summary>
    /// <remarks>
    /// A checkpoint at a step that is evaluated (every <see cref="TrainingConfig.EvaluateEverySteps"/>
    /// steps and at epoch ends) is taken only when <c>evaluation.csv</c> contains that step's row. The
    /// resumed run trains from the step after it, so an evaluation still running at the kill would
    /// never be reported, and a rung at that step would be decided later with another value. When no
    /// checkpoint passes that test, the newest otherwise usable one is taken.
    /// </remarks>
    public static ResumePoint? NewestUsable(string runDirectory, TrainingConfig config, Action<string> log)
    {
        var evaluated = ReadEvaluations(runDirectory, config, config.Epochs).Select(e => e.Step).ToHashSet();
        ResumePoint? fallback = null;
        foreach (var candidate in CheckpointCatalog.All(runDirectory))
        {
            var name = Path.GetFileName(candidate.Path);
            CheckpointData checkpoint;
            try
            {
                checkpoint = Checkpoint.Read(candidate.Path);
            }
            catch (CheckpointException error)
            {
                log($"rejects checkpoint {name} and tries the one before it: {error.Message}");
                continue;
            }

            if (checkpoint.Epoch >= config.Epochs)
            {
                log($"rejects checkpoint {name} and tries the one before it: the checkpoint is after the last epoch, so it has no steps left to train, and the final evaluation is missing");
                continue;
            }

            if (WithoutRecoverySettings(checkpoint.Config) != WithoutRecoverySettings(config))
            {
                log($"rejects checkpoint {name} and tries the one before it: the checkpoint was written with other training settings than the spec gives this trial");
                continue;
            }

            var point = new ResumePoint(checkpoint.Epoch, checkpoint.Step, checkpoint.Position, checkpoint.Weights, checkpoint.OptimizerState);
            var evaluatedStep = checkpoint.Position == 0 || (config.EvaluateEverySteps > 0 && checkpoint.Step % config.EvaluateEverySteps == 0);
            if (!evaluatedStep || evaluated.Contains(checkpoint.Step))
            {
                return point;
            }

            log($"passes over checkpoint {name}: evaluation.csv has no row for its step {checkpoint.Step}, so resuming there would lose that evaluation");
            fallback ??= point;
        }

        return fallback;
    }

    /// <summary>
    /// Renames <paramref name="runDirectory"/> to <c>RUN_DIR.interrupted-N</c> with the first free N,
    /// so that a trial without a usable checkpoint starts again in an empty folder and the old one is kept.
    /// </summary>
    /// <returns>The new name, or null when the folder does not exist.</returns>
    public static string? MoveAside(string runDirectory)
    {
        if (!Directory.Exists(runDirectory))
        {
            return null;
        }

        var attempt = 1;
        while (Directory.Exists($"{runDirectory}.interrupted-{attempt}"))
        {
            attempt++;
        }

        var target = $"{runDirectory}.interrupted-{attempt}";
        Directory.Move(runDirectory, target);
        return target;
    }

    /// <summary>
    /// Reads the rows of the run's <c>evaluation.csv</c> (epoch, step, then the model family's
    /// metrics), in file order; rows that do not parse are skipped.
    /// </summary>
    /// <remarks>
    /// The file does not mark epoch-end rows. A row counts as one when it is the last row of its epoch
    /// and that epoch has <paramref name="completedEpochs"/> or fewer: the epoch-end evaluation is the
    /// last one of its epoch, and mid-epoch rows carry the number of the epoch in progress.
    /// </remarks>
    public static IReadOnlyList<EpochEvaluation> ReadEvaluations(string runDirectory, TrainingConfig config, int completedEpochs)
    {
        var path = Path.Combine(runDirectory, "evaluation.csv");
        if (!File.Exists(path))
        {
            return [];
        }

        var names = config.Family.EvaluationMetrics;
        var rows = new List<(int Epoch, long Step, double[] Values)>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var columns = line.Split(',');
            if (columns.Length < 2 + names.Count
                || !int.TryParse(columns[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch)
                || !long.TryParse(columns[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var step))
            {
                continue;
            }

            var values = new double[names.Count];
            var valid = true;
            for (var i = 0; i < names.Count && valid; i++)
            {
                valid = double.TryParse(columns[2 + i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]);
            }

            if (valid)
            {
                rows.Add((epoch, step, values));
            }
        }

        var evaluations = new List<EpochEvaluation>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var (epoch, step, values) = rows[i];
            var lastOfEpoch = i == rows.Count - 1 || rows[i + 1].Epoch != epoch;
            evaluations.Add(new EpochEvaluation(epoch, step, names, values, EpochEnd: lastOfEpoch && epoch <= completedEpochs));
        }

        return evaluations;
    }

    /// <summary>Returns the settings without the recovery ones (checkpoint interval and count, minimum workers), which a resume may change.</summary>
    private static TrainingConfig WithoutRecoverySettings(TrainingConfig config) =>
        config with { CheckpointEverySteps = 0, KeepCheckpoints = 0, MinWorkers = 0 };
}
