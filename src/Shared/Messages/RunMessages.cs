using DeepGen.Distributed.Configuration;

namespace DeepGen.Distributed.Messages;

/// <summary>
/// Starts a run on the coordinator. Local to the coordinator's process, because it carries the
/// observer that the command line uses to print progress.
/// </summary>
/// <param name="RunDirectory">Folder that receives the configuration, metrics, images and checkpoint.</param>
/// <param name="WorkerWaitTimeout">How long to wait for workers, at the start and while the run is paused below its minimum, before failing.</param>
/// <param name="Resume">State to continue an interrupted run from (a checkpoint of <paramref name="RunDirectory"/>), or null for a new run.</param>
public sealed record StartRun(TrainingConfig Config, string RunDirectory, IRunObserver Observer, TimeSpan WorkerWaitTimeout, ResumePoint? Resume = null);

/// <summary>A checkpointed state that a resumed run starts from.</summary>
/// <param name="Epoch">Completed epochs.</param>
/// <param name="Step">Completed steps.</param>
/// <param name="Position">Samples of the next epoch already trained on.</param>
/// <param name="Weights">Model weights in ParameterCodec form.</param>
/// <param name="OptimizerState">Optimizer state, or null to start the optimizer afresh.</param>
public sealed record ResumePoint(int Epoch, long Step, long Position, byte[] Weights, byte[]? OptimizerState);

/// <summary>Reply to <see cref="StartRun"/>'s sender when the run has finished every epoch.</summary>
/// <param name="FinalEvaluation">Metrics of the last epoch's evaluation, when it finished.</param>
public sealed record RunCompleted(string RunId, string RunDirectory, long Steps, EpochEvaluation? FinalEvaluation);

/// <summary>Reply to <see cref="StartRun"/>'s sender when the run stopped before its last epoch.</summary>
public sealed record RunFailed(string RunId, string Reason);

/// <summary>Held-out metrics of a weight snapshot.</summary>
/// <param name="Epoch">Epochs completed when the weights were taken.</param>
/// <param name="Names">Metric names (<see cref="Configuration.ModelFamily.EvaluationMetrics"/>).</param>
/// <param name="Values">Metric values, in the order of <paramref name="Names"/>.</param>
/// <param name="EpochEnd">True for the snapshot taken at the end of <paramref name="Epoch"/>, false for one taken during it.</param>
public sealed record EpochEvaluation(int Epoch, long Step, IReadOnlyList<string> Names, IReadOnlyList<double> Values, bool EpochEnd = true)
{
    /// <summary>The value of metric <paramref name="name"/>.</summary>
    public double this[string name] => Values[Names.ToList().IndexOf(name) is var i and >= 0 ? i : throw new KeyNotFoundException($"No metric named {name}.")];
}

/// <summary>Receives the progress of a run, on the coordinator's thread: implementations must return quickly.</summary>
public interface IRunObserver
{
    void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch);

    void StepCompleted(StepCompleted report, double samplesPerSecond);

    void EpochEvaluated(EpochEvaluation evaluation);

    void Log(string message);

    /// <summary>The run's ranks were assigned; <paramref name="workers"/> is indexed by rank.</summary>
    void RanksAssigned(IReadOnlyList<RankedWorker> workers)
    {
    }

    /// <summary>A step report of any rank; <see cref="StepCompleted(Messages.StepCompleted, double)"/> receives rank 0's only.</summary>
    void RankStepCompleted(StepCompleted report)
    {
    }

    /// <summary>The coordinator wrote a checkpoint.</summary>
    void CheckpointWritten(string path, int epoch, long step)
    {
    }
}

/// <summary>A worker holding a rank in a run.</summary>
public sealed record RankedWorker(int Rank, string WorkerId, string Host);
