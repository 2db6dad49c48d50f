using Akka.Event;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Dashboard;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;

namespace DeepGen.Distributed.Coordinator.Monitoring;

/// <summary>
/// Watches one run on the coordinator: feeds the run page's <see cref="RunRecord"/>, records the
/// coordinator's metrics (per-rank step time, workers alive, checkpoint time) and warns about
/// stragglers with <see cref="StragglerPolicy"/>. Runs on the coordinator's thread, like every
/// <see cref="IRunObserver"/>.
/// </summary>
public sealed class RunMonitor : IRunObserver
{
    private readonly RunRecord _record;
    private readonly StragglerPolicy _stragglers;
    private readonly ILoggingAdapter _log;
    private readonly Dictionary<long, double?[]> _pendingSteps = [];
    private KeyValuePair<string, object?> _runTag = new(DeepGenTelemetry.RunIdTag, "");
    private int _worldSize;

    /// <param name="log">Receives the straggler warnings.</param>
    public RunMonitor(RunRecord record, StragglerPolicy stragglers, ILoggingAdapter log)
    {
        _record = record;
        _stragglers = stragglers;
        _log = log;
    }

    public RunRecord Record => _record;

    public void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch)
    {
        _runTag = new(DeepGenTelemetry.RunIdTag, runId);
        _worldSize = config.Workers;
        _record.Started(runId, config, stepsPerEpoch);
    }

    public void RanksAssigned(IReadOnlyList<RankedWorker> workers)
    {
        _worldSize = workers.Count;
        _record.RanksAssigned(workers);
        DeepGenTelemetry.WorkersAlive.Record(workers.Count, _runTag);
    }

    public void RankStepCompleted(StepCompleted report)
    {
        _record.RankStepCompleted(report);
        DeepGenTelemetry.WorkerStepDuration.Record(report.StepSeconds, _runTag, new(DeepGenTelemetry.RankTag, report.Rank));
        CheckStragglers(report);
    }

    public void StepCompleted(StepCompleted report, double samplesPerSecond) => _record.StepCompleted(report, samplesPerSecond);

    public void EpochEvaluated(EpochEvaluation evaluation) => _record.Evaluated(evaluation);

    public void Log(string message) => _record.Log(message);

    public void CheckpointWritten(string path, int epoch, long step)
    {
        _record.CheckpointWritten(path);
        DeepGenTelemetry.CheckpointTime.Record(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, _runTag);
    }

    /// <summary>Marks the run as ended with the coordinator's reply (<see cref="RunCompleted"/> or <see cref="RunFailed"/>).</summary>
    public void Finished(object outcome)
    {
        switch (outcome)
        {
            case RunCompleted:
                _record.Finished("completed", null);
                break;
            case RunFailed failed:
                _record.Finished("failed", failed.Reason);
                break;
            default:
                _record.Finished("failed", $"unexpected reply {outcome}");
                break;
        }

        DeepGenTelemetry.WorkersAlive.Record(0, _runTag);
    }

    /// <summary>Collects every rank's time of a step, then checks the complete step.</summary>
    private void CheckStragglers(StepCompleted report)
    {
        if (_worldSize < 2 || report.Rank >= _worldSize)
        {
            return;
        }

        if (!_pendingSteps.TryGetValue(report.Step, out var seconds))
        {
            seconds = new double?[_worldSize];
            _pendingSteps[report.Step] = seconds;
        }

        seconds[report.Rank] = report.StepSeconds;
        if (Array.Exists(seconds, s => s is null))
        {
            return;
        }

        _pendingSteps.Remove(report.Step);
        var decision = _stragglers.Observe(report.Step, seconds.Select(s => s!.Value).ToList());
        _record.StragglersChecked(decision);
        foreach (var warning in decision.NewWarnings)
        {
            _log.Warning("Run {RunId}: {Warning}; check that worker's host for CPU contention or a slow network link", _runTag.Value, RunRecord.StragglerMessage(warning, _record.WorkerId(warning.Rank)));
        }
    }
}
