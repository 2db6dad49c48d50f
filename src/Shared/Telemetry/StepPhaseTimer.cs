using System.Diagnostics;

namespace DeepGen.Distributed.Telemetry;

/// <summary>
/// Times the phases of one training step and, while tracing is on, opens one child span per phase
/// under the current activity (the iteration span). Create one per step on the training thread.
/// A phase entered twice in a step (a GAN's discriminator and generator updates) accumulates.
/// </summary>
public sealed class StepPhaseTimer
{
    private static readonly string[] SpanNames = ["data", "forward_backward", "allreduce", "optimizer"];

    private readonly double[] _seconds = new double[SpanNames.Length];
    private readonly int _rank;
    private StepPhase _phase;
    private long _phaseStart;
    private Activity? _span;
    private bool _stopped;

    private StepPhaseTimer(int rank, StepPhase first)
    {
        _rank = rank;
        Enter(first);
    }

    /// <summary>Names of the phases in spans and in the <c>phase</c> tag, indexed by <see cref="StepPhase"/>.</summary>
    public static IReadOnlyList<string> PhaseNames => SpanNames;

    /// <summary>Starts timing a step on <paramref name="rank"/> in phase <paramref name="first"/>.</summary>
    public static StepPhaseTimer Start(int rank, StepPhase first = StepPhase.Data) => new(rank, first);

    /// <summary>Ends the current phase and starts <paramref name="phase"/>.</summary>
    public void Next(StepPhase phase)
    {
        Leave();
        Enter(phase);
    }

    /// <summary>Adds the all-reduce's payload and ring size to the current phase's span.</summary>
    /// <param name="bytesSent">Bytes this rank sent, frame headers included.</param>
    /// <param name="peers">Ranks in the ring, this one included.</param>
    public void TagAllReduce(long bytesSent, int peers)
    {
        _span?.SetTag("deepgen.allreduce.bytes", bytesSent);
        _span?.SetTag("deepgen.allreduce.peers", peers);
    }

    /// <summary>Ends the last phase and returns the seconds spent in each phase, indexed by <see cref="StepPhase"/>.</summary>
    public double[] Stop()
    {
        if (!_stopped)
        {
            Leave();
            _stopped = true;
        }

        return _seconds;
    }

    private void Enter(StepPhase phase)
    {
        _phase = phase;
        _phaseStart = Stopwatch.GetTimestamp();
        // Phase spans exist only under a step span. Without this check, the phases of a step that
        // the sampler dropped would start root spans of their own.
        _span = Activity.Current?.OperationName == IterationTrace.StepSpanName
            ? DeepGenTelemetry.ActivitySource.StartActivity(SpanNames[(int)phase])
            : null;
    }

    private void Leave()
    {
        var seconds = Stopwatch.GetElapsedTime(_phaseStart).TotalSeconds;
        _seconds[(int)_phase] += seconds;
        _span?.Dispose();
        _span = null;
        DeepGenTelemetry.PhaseDuration.Record(
            seconds,
            new KeyValuePair<string, object?>("phase", SpanNames[(int)_phase]),
            new KeyValuePair<string, object?>(DeepGenTelemetry.RankTag, _rank));
    }
}
