using System.Collections.Concurrent;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Tests.Coordinator.Cli;

/// <summary>Keeps everything a run reports, for assertions.</summary>
internal sealed class RecordingObserver : IRunObserver
{
    public ConcurrentQueue<StepCompleted> Steps { get; } = new();

    public ConcurrentQueue<EpochEvaluation> Evaluations { get; } = new();

    public ConcurrentQueue<string> Messages { get; } = new();

    public int StepsPerEpoch { get; private set; }

    public void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch) => StepsPerEpoch = stepsPerEpoch;

    public void StepCompleted(StepCompleted report, double samplesPerSecond) => Steps.Enqueue(report);

    public void EpochEvaluated(EpochEvaluation evaluation) => Evaluations.Enqueue(evaluation);

    public void Log(string message) => Messages.Enqueue(message);
}
