using System.Diagnostics;

namespace DeepGen.Distributed.Telemetry;

/// <summary>
/// Spans of the training loop on a worker. Each step is one <c>train.step</c> span whose parent is
/// the coordinator's epoch span, taken from the W3C <c>traceparent</c> in the epoch command, so every
/// rank's step spans of one epoch belong to the coordinator's trace of that epoch.
/// </summary>
public static class IterationTrace
{
    /// <summary>Span name of one training step on one rank.</summary>
    public const string StepSpanName = "train.step";

    /// <summary>Tag with the global step number; <see cref="IterationSampler"/> samples on it.</summary>
    public const string StepTag = "deepgen.step";

    /// <summary>Parses a W3C <c>traceparent</c> header value; returns default for null or invalid text.</summary>
    public static ActivityContext ParseParent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;

    /// <summary>
    /// Starts the span of one step and makes it current, so that the phase spans of
    /// <see cref="StepPhaseTimer"/> become its children. Returns null when no listener samples it.
    /// </summary>
    public static Activity? StartStep(ActivityContext parent, string runId, int rank, long step)
    {
        if (!DeepGenTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        var tags = new ActivityTagsCollection
        {
            { StepTag, step },
            { DeepGenTelemetry.RunIdTag, runId },
            { DeepGenTelemetry.RankTag, rank },
        };
        return DeepGenTelemetry.ActivitySource.StartActivity(StepSpanName, ActivityKind.Internal, parent, tags);
    }
}
