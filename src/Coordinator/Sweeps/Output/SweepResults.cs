using System.Globalization;
using System.Text;

namespace DeepGen.Distributed.Coordinator.Sweeps.Output;

/// <summary>A row of the trial table.</summary>
/// <param name="RungValues">Objective at each rung the trial reached, in rung order.</param>
public sealed record TrialResult(
    string Id,
    string Status,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<RungResult> RungValues,
    double? FinalMetric,
    string? Reason,
    double? StartedSeconds,
    double? FinishedSeconds,
    string RunDirectory,
    IReadOnlyList<MetricPoint> Curve);

/// <summary>The trial table of a sweep (<c>results.json</c>), read by <c>deepgen sweep status</c> and the sweep page.</summary>
/// <param name="Rungs">Rung milestones in the scheduler's unit; empty for FIFO.</param>
/// <param name="BestTrialId">The completed trial with the best final metric; failed and stopped trials are never chosen.</param>
public sealed record SweepResults(
    string Metric,
    string Mode,
    string Scheduler,
    IReadOnlyList<long> Rungs,
    bool Finished,
    double ElapsedSeconds,
    string? BestTrialId,
    double? BestMetric,
    IReadOnlyList<TrialResult> Trials)
{
    private static readonly string[] LeadingColumns = ["trial", "status"];

    public static SweepResults From(SweepState state, IReadOnlyList<long> rungs)
    {
        var best = state.Trials.FirstOrDefault(t => t.Id == state.BestTrialId);
        var trials = state.Trials.Select(t => new TrialResult(
            t.Id, t.Status.ToString().ToLowerInvariant(), t.Parameters, t.Rungs, t.FinalMetric, t.Reason, t.StartedSeconds, t.FinishedSeconds, t.RunDirectory, t.Curve)).ToList();
        return new SweepResults(state.Metric, state.Mode, state.Scheduler, rungs, state.Finished, state.ElapsedSeconds, state.BestTrialId, best?.FinalMetric, trials);
    }

    /// <summary>
    /// Formats the table as CSV: trial, status, one column per parameter, one per rung
    /// (<c>rung_R</c>), the final metric, a best-trial mark, the reason and the run folder.
    /// </summary>
    public static string Csv(SweepState state, IReadOnlyList<long> rungs)
    {
        var parameters = state.Trials.SelectMany(t => t.Parameters.Keys).Distinct(StringComparer.Ordinal).ToList();
        var header = LeadingColumns
            .Concat(parameters)
            .Concat(rungs.Select(r => $"rung_{r}"))
            .Concat([$"final_{state.Metric}", "best", "reason", "run_directory"]);
        var text = new StringBuilder().AppendLine(string.Join(',', header));
        foreach (var trial in state.Trials)
        {
            var cells = new List<string> { trial.Id, trial.Status.ToString().ToLowerInvariant() };
            cells.AddRange(parameters.Select(p => trial.Parameters.GetValueOrDefault(p, "")));
            cells.AddRange(rungs.Select(r => trial.Rungs.FirstOrDefault(x => x.Rung == r) is { } result ? Number(result.Value) : ""));
            cells.Add(trial.FinalMetric is { } final ? Number(final) : "");
            cells.Add(trial.Id == state.BestTrialId ? "yes" : "");
            cells.Add(Quote(trial.Reason ?? ""));
            cells.Add(trial.RunDirectory);
            text.AppendLine(string.Join(',', cells));
        }

        return text.ToString();
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string text) =>
        text.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
}
