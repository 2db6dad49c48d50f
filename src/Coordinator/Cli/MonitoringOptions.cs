using System.CommandLine;
using System.Globalization;
using DeepGen.Distributed.Telemetry;

namespace DeepGen.Distributed.Coordinator.Cli;

/// <summary>Monitoring settings of <c>deepgen train</c>: exporters, trace sampling, the run page and straggler warnings.</summary>
/// <param name="MetricsPort">Port of the Prometheus scrape endpoint (0 = none).</param>
/// <param name="DashboardPort">Port of the run page on 127.0.0.1 (0 = any free port), or null for no page.</param>
/// <param name="StragglerFactor">Multiple of the median step time above which a rank counts as slow.</param>
/// <param name="StragglerSteps">Slow steps in a row before the coordinator warns.</param>
public sealed record MonitoringSettings(int MetricsPort, int? DashboardPort, bool TelemetryConsole, int TraceEverySteps, double StragglerFactor, int StragglerSteps)
{
    /// <summary>The run page binds loopback only: it has no authentication.</summary>
    public const string DashboardHost = "127.0.0.1";

    public TelemetryOptions Telemetry(string serviceName, string host) => new(serviceName)
    {
        PrometheusPort = MetricsPort,
        PrometheusHost = host,
        Console = TelemetryConsole,
        TraceEverySteps = TraceEverySteps,
    };

    public List<string> Validate()
    {
        var errors = Telemetry("deepgen-coordinator", "127.0.0.1").Validate().ToList();
        if (DashboardPort is < 0 or > 65535)
        {
            errors.Add($"--dashboard-port {DashboardPort} is invalid; give a TCP port from 1 to 65535, or 0 for any free port.");
        }

        if (!(StragglerFactor > 1) || double.IsInfinity(StragglerFactor))
        {
            errors.Add($"--straggler-factor {StragglerFactor.ToString(CultureInfo.InvariantCulture)} is invalid; give a number above 1, for example 1.5.");
        }

        if (StragglerSteps < 1)
        {
            errors.Add($"--straggler-steps {StragglerSteps} is invalid; give at least 1.");
        }

        return errors;
    }
}

/// <summary>The command-line options behind <see cref="MonitoringSettings"/>.</summary>
public sealed class MonitoringOptions
{
    private readonly Option<int> _metricsPort = new("--metrics-port") { Description = "Serve Prometheus metrics at http://HOST:PORT/metrics, HOST being --host (0 = no endpoint)." };
    private readonly Option<int> _dashboardPort = new("--dashboard-port") { Description = "Port of the live run page on 127.0.0.1 (0 = any free port, printed at start)." };
    private readonly Option<bool> _noDashboard = new("--no-dashboard") { Description = "Serve no run page." };
    private readonly Option<bool> _console = new("--telemetry-console") { Description = "Print spans and metrics to standard output, for debugging." };
    private readonly Option<int> _traceEvery = new("--trace-every") { Description = "Trace one training step in N on every worker (1 = every step). Spans go to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.", DefaultValueFactory = _ => 1 };
    private readonly Option<double> _stragglerFactor = new("--straggler-factor") { Description = "Warn when a worker's step time exceeds this multiple of the median over all workers.", DefaultValueFactory = _ => 1.5 };
    private readonly Option<int> _stragglerSteps = new("--straggler-steps") { Description = "Warn after this many slow steps in a row.", DefaultValueFactory = _ => 5 };

    public IEnumerable<Option> All => [_metricsPort, _dashboardPort, _noDashboard, _console, _traceEvery, _stragglerFactor, _stragglerSteps];

    public MonitoringSettings Read(ParseResult result) => new(
        result.GetValue(_metricsPort),
        result.GetValue(_noDashboard) ? null : result.GetValue(_dashboardPort),
        result.GetValue(_console),
        result.GetValue(_traceEvery),
        result.GetValue(_stragglerFactor),
        result.GetValue(_stragglerSteps));
}
