namespace DeepGen.Distributed.Coordinator.Dashboard;

/// <summary>One line of the run list.</summary>
/// <param name="Status">running, completed or failed.</param>
/// <param name="StartedAt">UTC start time, ISO 8601.</param>
public sealed record RunSummary(string Id, string Model, string Status, string StartedAt, long LastStep, long TotalSteps, double? LastLoss, string Directory);

/// <summary>One training step as the run page charts it.</summary>
/// <param name="Seconds">Seconds since the run started, when the coordinator received rank 0's report.</param>
/// <param name="Terms">The model family's step terms, in <see cref="RunDetails.TermNames"/> order.</param>
/// <param name="PhaseSeconds">Rank 0's seconds per phase, in <see cref="RunDetails.PhaseNames"/> order; null when not reported.</param>
/// <param name="RankSeconds">Each rank's step time, indexed by rank; null for ranks that have not reported the step yet.</param>
public sealed record StepPoint(
    long Step,
    int Epoch,
    double Seconds,
    double Loss,
    IReadOnlyList<double> Terms,
    double SamplesPerSecond,
    double StepSeconds,
    IReadOnlyList<double>? PhaseSeconds,
    IReadOnlyList<double?> RankSeconds);

/// <summary>A held-out evaluation, values in <see cref="RunDetails.MetricNames"/> order.</summary>
public sealed record EvaluationPoint(int Epoch, long Step, bool EpochEnd, IReadOnlyList<double> Values);

/// <summary>A row of the workers table.</summary>
/// <param name="State">training, straggler, or the run's final status.</param>
/// <param name="StepSeconds">The rank's latest step time.</param>
public sealed record WorkerRow(int Rank, string WorkerId, string Host, string State, long LastStep, double? StepSeconds);

/// <summary>A straggler warning shown on the run page.</summary>
public sealed record StragglerNotice(int Rank, string WorkerId, long Step, double StepSeconds, double MedianSeconds, string Message);

/// <summary>An image or report of the run, with the URL the page loads it from.</summary>
/// <param name="Kind">The file name before <c>-epoch-</c>, for example <c>samples</c>, or <c>cam</c> for the CAM report.</param>
public sealed record RunFile(string Kind, string Name, string Url);

/// <summary>Everything the run page shows, with the steps after the requested one.</summary>
/// <param name="Steps">Steps after the <c>after</c> query value, ascending.</param>
/// <param name="Images">The latest image of each kind under <c>images/</c>.</param>
/// <param name="CamReport">The latest CAM report page, when the run writes them.</param>
/// <param name="Messages">The latest progress messages, oldest first.</param>
public sealed record RunDetails(
    RunSummary Summary,
    string? Reason,
    int Epochs,
    int StepsPerEpoch,
    int WorldSize,
    IReadOnlyList<string> TermNames,
    IReadOnlyList<string> MetricNames,
    IReadOnlyList<string> PhaseNames,
    IReadOnlyList<StepPoint> Steps,
    IReadOnlyList<EvaluationPoint> Evaluations,
    IReadOnlyList<WorkerRow> Workers,
    IReadOnlyList<StragglerNotice> Stragglers,
    IReadOnlyList<RunFile> Images,
    RunFile? CamReport,
    string? LastCheckpoint,
    IReadOnlyList<string> Messages);
