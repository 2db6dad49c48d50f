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

    /// <summary>Global training throughput measured by the coordinator over the latest steps.</summary>
    public static readonly Gauge<double> Throughput = Meter.CreateGauge<double>(ThroughputName, "{sample}/s", "Global training throughput of the run.");
}
