namespace DeepGen.Distributed.Telemetry;

/// <summary>Which exporters a process starts, and how traces are sampled.</summary>
/// <param name="ServiceName">OpenTelemetry <c>service.name</c> of the process's role, for example <c>deepgen-coordinator</c>.</param>
public sealed record TelemetryOptions(string ServiceName)
{
    /// <summary>Port of the Prometheus scrape endpoint <c>/metrics</c> (0 = no endpoint).</summary>
    public int PrometheusPort { get; init; }

    /// <summary>Address the scrape endpoint binds; 0.0.0.0 or :: bind every interface.</summary>
    public string PrometheusHost { get; init; } = "127.0.0.1";

    /// <summary>Print spans and metrics to standard output, for debugging.</summary>
    public bool Console { get; init; }

    /// <summary>Trace one training step in this many (1 = every step); see <see cref="IterationSampler"/>.</summary>
    public int TraceEverySteps { get; init; } = 1;

    /// <summary>Id of this process instance (<c>service.instance.id</c>), for example the worker id; null = a random id.</summary>
    public string? InstanceId { get; init; }

    /// <summary>True when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, so OTLP export is on.</summary>
    public static bool OtlpConfigured => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    /// <summary>Returns a message for each invalid setting, naming the command-line option.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (PrometheusPort is < 0 or > 65535)
        {
            errors.Add($"--metrics-port {PrometheusPort} is invalid; give a TCP port from 1 to 65535, or 0 for no scrape endpoint.");
        }

        if (TraceEverySteps < 1)
        {
            errors.Add($"--trace-every {TraceEverySteps} is invalid; give 1 to trace every step, or N to trace one step in N.");
        }

        return errors;
    }
}
