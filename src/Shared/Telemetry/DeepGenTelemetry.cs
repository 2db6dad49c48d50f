using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DeepGen.Distributed.Telemetry;

/// <summary>
/// The one owner of the project's <see cref="ActivitySource"/> and <see cref="Meter"/>. Instrument
/// names are dotted, with UCUM units, so that OpenTelemetry exporters map them directly.
/// </summary>
public static class DeepGenTelemetry
{
    /// <summary>Name of both the activity source and the meter.</summary>
    public const string SourceName = "DeepGen.Distributed";

    public const string StepDurationName = "deepgen.train.step.duration";
    public const string AllReduceDurationName = "deepgen.train.allreduce.duration";
    public const string AllReduceBytesName = "deepgen.train.allreduce.bytes";
    public const string SamplesName = "deepgen.train.samples";
    public const string LossName = "deepgen.train.loss";
    public const string ThroughputName = "deepgen.train.throughput";
    public const string EvaluationName = "deepgen.eval.metric";
    public const string PhaseDurationName = "deepgen.train.phase.duration";
    public const string WorkerStepDurationName = "deepgen.worker.step.duration";
    public const string WorkersAliveName = "deepgen.workers.alive";
    public const string CheckpointTimeName = "deepgen.checkpoint.time";

    /// <summary>Tag with the run id on per-run measurements and spans.</summary>
    public const string RunIdTag = "run_id";

    /// <summary>Tag with the worker's rank in the run.</summary>
    public const string RankTag = "rank";

    public static readonly ActivitySource ActivitySource = new(SourceName, typeof(DeepGenTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(SourceName, typeof(DeepGenTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Wall time of one training step on one rank, data loading to optimizer step.</summary>
    public static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>(StepDurationName, "s", "Wall time of one training step on one rank.");

    /// <summary>Time one rank spent in the gradient all-reduce of a step.</summary>
    public static readonly Histogram<double> AllReduceDuration = Meter.CreateHistogram<double>(AllReduceDurationName, "s", "Time one rank spent in the gradient all-reduce of a step.");

    /// <summary>Bytes a rank sent in gradient all-reduces.</summary>
    public static readonly Counter<long> AllReduceBytes = Meter.CreateCounter<long>(AllReduceBytesName, "By", "Bytes a rank sent in gradient all-reduces.");

    /// <summary>Training images consumed by a rank; its rate is the rank's samples/s.</summary>
    public static readonly Counter<long> Samples = Meter.CreateCounter<long>(SamplesName, "{sample}", "Training images consumed by a rank.");

    /// <summary>Training loss of the latest step, per image, tagged with the term (loss, reconstruction, kl).</summary>
    public static readonly Gauge<double> Loss = Meter.CreateGauge<double>(LossName, "nat", "Training loss terms of the latest step, per image.");

    /// <summary>Latest held-out evaluation of the run, tagged with the metric name (for example test_neg_elbo).</summary>
    public static readonly Gauge<double> Evaluation = Meter.CreateGauge<double>(EvaluationName, null, "Latest held-out evaluation metrics of the run, tagged with the metric name.");

    /// <summary>Time one rank spent in one phase of a step, tagged with the phase (<see cref="StepPhase"/>).</summary>
    public static readonly Histogram<double> PhaseDuration = Meter.CreateHistogram<double>(PhaseDurationName, "s", "Time one rank spent in one phase of a training step (data, forward_backward, allreduce, optimizer).");

    /// <summary>Latest step time of each rank as reported to the coordinator, tagged with the rank; stragglers stand out here.</summary>
    public static readonly Gauge<double> WorkerStepDuration = Meter.CreateGauge<double>(WorkerStepDurationName, "s", "Latest step time of each rank, recorded by the coordinator.");

    /// <summary>Workers that hold a rank in the current run (0 once the run has ended).</summary>
    public static readonly Gauge<int> WorkersAlive = Meter.CreateGauge<int>(WorkersAliveName, "{worker}", "Workers holding a rank in the current run.");

    /// <summary>Unix time of the latest checkpoint; the checkpoint's age is the current time minus this value.</summary>
    public static readonly Gauge<double> CheckpointTime = Meter.CreateGauge<double>(CheckpointTimeName, "s", "Unix time of the latest checkpoint written by the coordinator.");

    /// <summary>Global training throughput measured by the coordinator over the latest steps.</summary>
    public static readonly Gauge<double> Throughput = Meter.CreateGauge<double>(ThroughputName, "{sample}/s", "Global training throughput of the run.");
}
