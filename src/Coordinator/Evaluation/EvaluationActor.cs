using Akka.Actor;
using Akka.Event;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Coordinator.Evaluation;

/// <summary>
/// Evaluates weight snapshots of one run on the test set while training goes on: each
/// <see cref="EvaluateSnapshot"/> runs on this actor's own libtorch thread, never on a replica,
/// and the result goes back to the parent as <see cref="SnapshotEvaluated"/>.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Actors release resources in PostStop, which Akka calls when the actor stops.")]
public sealed class EvaluationActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TrainingThread _thread;
    private IEvaluator? _evaluator;
    private string? _startError;

    public EvaluationActor(TrainingConfig config, ImageDataset testSet, ImageDataset trainSet, RunOutput output)
    {
        var parent = Context.Parent;
        var log = _log;
        _thread = new TrainingThread("evaluation", error => log.Error(error, "Evaluation thread failed"));
        _thread.Post(() =>
        {
            try
            {
                torch.set_num_threads(1);
                _evaluator = EvaluatorFactory.Create(config, testSet, trainSet);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                _startError = $"{error.GetType().Name}: {error.Message}";
            }
        });
        Receive<EvaluateSnapshot>(snapshot =>
        {
            _log.Debug("Evaluating epoch {Epoch} (step {Step})", snapshot.Epoch, snapshot.Step);
            _thread.Post(() =>
            {
                using var span = DeepGenTelemetry.ActivitySource.StartActivity("evaluate")?.SetTag("deepgen.epoch", snapshot.Epoch).SetTag("deepgen.step", snapshot.Step);
                try
                {
                    if (_evaluator is null)
                    {
                        throw new InvalidOperationException($"the evaluator could not be created: {_startError}");
                    }

                    var values = _evaluator.Evaluate(snapshot.Weights);
                    if (snapshot.EpochEnd)
                    {
                        _evaluator.WriteImages(snapshot.Weights, output, snapshot.Epoch);
                    }

                    parent.Tell(new SnapshotEvaluated(new EpochEvaluation(snapshot.Epoch, snapshot.Step, config.Family.EvaluationMetrics, values, snapshot.EpochEnd)));
                }
                catch (Exception error) when (error is not OutOfMemoryException)
                {
                    parent.Tell(new SnapshotEvaluationFailed(snapshot.Epoch, $"{error.GetType().Name}: {error.Message}", snapshot.EpochEnd));
                }
            });
        });
    }

    public static Props Props(TrainingConfig config, ImageDataset testSet, ImageDataset trainSet, RunOutput output) =>
        Akka.Actor.Props.Create(() => new EvaluationActor(config, testSet, trainSet, output));

    protected override void PostStop()
    {
        _thread.Post(() => _evaluator?.Dispose());
        _thread.Dispose();
    }
}
