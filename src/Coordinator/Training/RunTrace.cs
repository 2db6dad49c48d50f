using System.Diagnostics;
using DeepGen.Distributed.Telemetry;

namespace DeepGen.Distributed.Coordinator.Training;

/// <summary>
/// The coordinator's spans of one run: a <c>run</c> span from acceptance to the end, and an
/// <c>epoch</c> span per epoch under it. The epoch span's W3C <c>traceparent</c> travels in
/// <see cref="Messages.TrainEpoch"/>, and every rank's step spans are its children, so all
/// workers' spans of a step share the coordinator's trace. Decisions (ranks assigned,
/// checkpoints, failures) are events on these spans.
/// </summary>
/// <remarks>
/// The spans never become <see cref="Activity.Current"/>: the actor's dispatcher threads run other
/// actors' messages, which must not inherit a run's span. Every method does nothing while no
/// tracer listens.
/// </remarks>
public sealed class RunTrace
{
    private Activity? _run;
    private Activity? _epoch;

    /// <summary>W3C <c>traceparent</c> of the run span, or null when it is not traced.</summary>
    public string? RunTraceParent => _run?.Id;

    /// <summary>W3C <c>traceparent</c> of the current epoch span, or null when it is not traced.</summary>
    public string? EpochTraceParent => _epoch?.Id;

    /// <summary>Ends any earlier run's spans and starts the span of run <paramref name="runId"/>.</summary>
    public void StartRun(string runId, string model, int workers)
    {
        End("superseded by a new run");
        _run = StartDetached("run", default, new ActivityTagsCollection
        {
            { DeepGenTelemetry.RunIdTag, runId },
            { "deepgen.model", model },
            { "deepgen.workers", workers },
        });
    }

    /// <summary>Ends the previous epoch's span and starts the span of <paramref name="epoch"/>; returns its <c>traceparent</c>.</summary>
    public string? StartEpoch(int epoch, long firstStep)
    {
        StopDetached(ref _epoch);
        if (_run is null)
        {
            return null;
        }

        _epoch = StartDetached("epoch", _run.Context, new ActivityTagsCollection
        {
            { DeepGenTelemetry.RunIdTag, _run.GetTagItem(DeepGenTelemetry.RunIdTag) },
            { "deepgen.epoch", epoch },
            { "deepgen.first_step", firstStep },
        });
        return EpochTraceParent;
    }

    /// <summary>Adds a decision event to the epoch span, or to the run span between epochs.</summary>
    public void AddEvent(string name, params (string Key, object? Value)[] tags)
    {
        var target = _epoch ?? _run;
        if (target is null)
        {
            return;
        }

        var collection = new ActivityTagsCollection();
        foreach (var (key, value) in tags)
        {
            collection[key] = value;
        }

        target.AddEvent(new ActivityEvent(name, tags: collection));
    }

    /// <summary>Ends the run's spans; a non-null <paramref name="error"/> marks the run span as failed.</summary>
    public void End(string? error = null)
    {
        StopDetached(ref _epoch);
        if (_run is not null && error is not null)
        {
            _run.SetStatus(ActivityStatusCode.Error, error);
        }

        StopDetached(ref _run);
    }

    private static Activity? StartDetached(string name, ActivityContext parent, ActivityTagsCollection tags)
    {
        if (!DeepGenTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        var previous = Activity.Current;

        // With a default parent context, StartActivity parents on Activity.Current instead.
        Activity.Current = null;
        var activity = DeepGenTelemetry.ActivitySource.StartActivity(name, ActivityKind.Internal, parent, tags);
        Activity.Current = previous;
        return activity;
    }

    private static void StopDetached(ref Activity? activity)
    {
        if (activity is null)
        {
            return;
        }

        // Activity.Stop makes the activity's parent current, which must not leak to the thread.
        var previous = Activity.Current;
        activity.Stop();
        Activity.Current = previous;
        activity = null;
    }
}
