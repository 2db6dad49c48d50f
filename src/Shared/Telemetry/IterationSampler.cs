using OpenTelemetry.Trace;

namespace DeepGen.Distributed.Telemetry;

/// <summary>
/// Samples every <c>N</c>th training step on every rank alike, by the step number in the span's
/// <see cref="IterationTrace.StepTag"/>, so a sampled step has its spans on all workers. Spans
/// with a parent follow the parent's sampled flag, and other root spans (runs, evaluations) are
/// always sampled because there are few of them.
/// </summary>
public sealed class IterationSampler : Sampler
{
    private readonly int _everySteps;

    /// <param name="everySteps">Sample steps whose number is a multiple of this (1 = every step).</param>
    public IterationSampler(int everySteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(everySteps, 1);
        _everySteps = everySteps;
        Description = $"IterationSampler{{every {everySteps} steps}}";
    }

    /// <inheritdoc />
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.Tags is { } tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == IterationTrace.StepTag && tag.Value is long step)
                {
                    return new SamplingResult(step % _everySteps == 0);
                }
            }
        }

        var parent = samplingParameters.ParentContext;
        if (parent.TraceId != default)
        {
            return new SamplingResult((parent.TraceFlags & System.Diagnostics.ActivityTraceFlags.Recorded) != 0);
        }

        return new SamplingResult(SamplingDecision.RecordAndSample);
    }
}
