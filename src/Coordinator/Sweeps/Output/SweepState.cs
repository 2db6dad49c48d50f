using System.Text.Json.Serialization;

namespace DeepGen.Distributed.Coordinator.Sweeps.Output;

/// <summary>
/// Life cycle of a trial: pending → running → completed, stopped (by ASHA) or failed. Under the
/// promotion form of ASHA a trial also pauses at each rung and runs again when it is promoted. A
/// trial still paused when the sweep ends is stopped.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrialStatus>))]
public enum TrialStatus
{
    Pending,
    Running,
    Paused,
    Completed,
    Stopped,
    Failed,
}

/// <summary>A trial's objective metric recorded at a rung and the decision taken there.</summary>
/// <param name="Continued">True when the trial went on past the rung: it passed (stopping form of ASHA) or was promoted (promotion form).</param>
public sealed record RungResult(long Rung, double Value, bool Continued);

/// <summary>One evaluation of a trial, for the metric-versus-time curves.</summary>
/// <param name="ElapsedSeconds">Sweep wall time when the evaluation arrived, summed over restarts.</param>
public sealed record MetricPoint(double ElapsedSeconds, int Epoch, long Step, double Value);

/// <summary>Record of one trial, saved in the state file after every change.</summary>
public sealed class TrialRecord
{
    public required string Id { get; init; }

    public required IReadOnlyDictionary<string, string> Parameters { get; init; }

    public TrialStatus Status { get; set; }

    /// <summary>Why the trial was stopped or failed; null while pending, running, paused or completed.</summary>
    public string? Reason { get; set; }

    /// <summary>Run folder relative to the sweep folder.</summary>
    public required string RunDirectory { get; init; }

    public List<int> Slots { get; set; } = [];

    /// <summary>Starts so far: 1 after the first start, one more per resume.</summary>
    public int Attempts { get; set; }

    public double? StartedSeconds { get; set; }

    public double? FinishedSeconds { get; set; }

    public List<RungResult> Rungs { get; set; } = [];

    public List<MetricPoint> Curve { get; set; } = [];

    /// <summary>Objective metric after the last epoch; only completed trials have one.</summary>
    public double? FinalMetric { get; set; }
}

/// <summary>
/// Saved state of a sweep (<c>state.json</c>): enough to resume it after the coordinator stops.
/// Trial definitions are not stored; they are expanded again from the copied spec, which gives the
/// same trials because expansion is deterministic.
/// </summary>
public sealed class SweepState
{
    public required string Metric { get; init; }

    public required string Mode { get; init; }

    public required string Scheduler { get; init; }

    public required int Slots { get; set; }

    /// <summary>Wall time spent in earlier runs of this sweep, before the current coordinator started.</summary>
    public double ElapsedSeconds { get; set; }

    public bool Finished { get; set; }

    public string? BestTrialId { get; set; }

    public required List<TrialRecord> Trials { get; init; }
}
