using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Monitoring;

/// <summary>Forwards every progress call to several observers, in order.</summary>
public sealed class CompositeObserver(params IRunObserver[] observers) : IRunObserver
{
    public void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch)
    {
        foreach (var observer in observers)
        {
            observer.RunStarted(runId, config, stepsPerEpoch);
        }
    }

    public void StepCompleted(StepCompleted report, double samplesPerSecond)
    {
        foreach (var observer in observers)
        {
            observer.StepCompleted(report, samplesPerSecond);
        }
    }

    public void EpochEvaluated(EpochEvaluation evaluation)
    {
        foreach (var observer in observers)
        {
            observer.EpochEvaluated(evaluation);
        }
    }

    public void Log(string message)
    {
        foreach (var observer in observers)
        {
            observer.Log(message);
        }
    }

    public void RanksAssigned(IReadOnlyList<RankedWorker> workers)
    {
        foreach (var observer in observers)
        {
            observer.RanksAssigned(workers);
        }
    }

    public void RankStepCompleted(StepCompleted report)
    {
        foreach (var observer in observers)
        {
            observer.RankStepCompleted(report);
        }
    }

    public void CheckpointWritten(string path, int epoch, long step)
    {
        foreach (var observer in observers)
        {
            observer.CheckpointWritten(path, epoch, step);
        }
    }
}
