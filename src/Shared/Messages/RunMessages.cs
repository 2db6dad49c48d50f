using DeepGen.Distributed.Configuration;

namespace DeepGen.Distributed.Messages;

/// <summary>
/// Starts a run on the coordinator. Local to the coordinator's process, because it carries the
/// observer that the command line uses to print progress.
/// </summary>
/// <param name="RunDirectory">Folder that receives the configuration, metrics, images and checkpoint.</param>
/// <param name="WorkerWaitTimeout">How long to wait for <see cref="TrainingConfig.Workers"/> workers before failing.</param>
public sealed record StartRun(TrainingConfig Config, string RunDirectory, IRunObserver Observer, TimeSpan WorkerWaitTimeout);

/// <summary>Reply to <see cref="StartRun"/>'s sender when the run has finished every epoch.</summary>
public sealed record RunCompleted(string RunId, string RunDirectory, long Steps, double? FinalTestNegativeElbo);

/// <summary>Reply to <see cref="StartRun"/>'s sender when the run stopped before its last epoch.</summary>
public sealed record RunFailed(string RunId, string Reason);

/// <summary>Test-set metrics of the VAE after an epoch.</summary>
/// <param name="NegativeElbo">Test-set negative ELBO, nats per image.</param>
/// <param name="Reconstruction">Its reconstruction term, nats per image.</param>
/// <param name="Kl">Its KL term, nats per image.</param>
public sealed record EpochEvaluation(int Epoch, long Step, double NegativeElbo, double Reconstruction, double Kl);

/// <summary>Receives the progress of a run, on the coordinator's thread: implementations must return quickly.</summary>
public interface IRunObserver
{
    void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch);

    void StepCompleted(StepCompleted report, double samplesPerSecond);

    void EpochEvaluated(EpochEvaluation evaluation);

    void Log(string message);
}
