using System.Globalization;

namespace DeepGen.Distributed.Coordinator.Sweeps.Output;

/// <summary>Prints a sweep's trial table as aligned text, best trial marked with <c>*</c>.</summary>
public static class SweepStatusTable
{
    public static void Write(TextWriter output, SweepResults results)
    {
        var parameters = results.Trials.SelectMany(t => t.Parameters.Keys).Distinct(StringComparer.Ordinal).ToList();
        var header = new List<string> { "trial", "status" };
        header.AddRange(parameters);
        header.AddRange(results.Rungs.Select(r => $"rung {r}"));
        header.Add(results.Metric);
        header.Add("reason");

        var rows = new List<List<string>> { header };
        foreach (var trial in results.Trials)
        {
            var row = new List<string> { trial.Id + (trial.Id == results.BestTrialId ? " *" : ""), trial.Status };
            row.AddRange(parameters.Select(p => trial.Parameters.GetValueOrDefault(p, "")));
            row.AddRange(results.Rungs.Select(r => trial.RungValues.FirstOrDefault(v => v.Rung == r) is { } value ? Number(value.Value) : ""));
            row.Add(trial.FinalMetric is { } final ? Number(final) : "");
            row.Add(trial.Reason ?? "");
            rows.Add(row);
        }

        // The reason column stays unpadded: it is last and may be long.
        var widths = Enumerable.Range(0, header.Count - 1).Select(c => rows.Max(r => r[c].Length)).ToList();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Take(widths.Count).Select((cell, c) => cell.PadRight(widths[c]))) + "  " + row[^1]);
        }

        var state = results.Finished ? "finished" : "not finished";
        var best = results.BestTrialId is null ? "no completed trial yet" : $"best {results.BestTrialId} with {results.Metric} {Number(results.BestMetric ?? double.NaN)} ({results.Mode})";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{results.Scheduler} sweep {state} after {results.ElapsedSeconds:F1} s; {best}"));
    }

    private static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
