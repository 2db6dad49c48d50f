using System.Net;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DeepGen.Distributed.Telemetry;

/// <summary>
/// Starts the exporters of traces and metrics that a process's options and the standard
/// OpenTelemetry variables ask for: OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, a
/// Prometheus scrape endpoint, and the console exporter.
/// </summary>
/// <remarks>
/// The resource names the role (<c>service.name</c>), the instance and the host. The run id and the
/// rank are attributes of each measurement and span instead, because one worker process serves
/// many runs and the embedded workers of <c>deepgen train</c> share the coordinator's process.
/// </remarks>
public static class TelemetryExport
{
    /// <summary>
    /// Returns providers exporting over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, or null.
    /// The exporter itself reads the other <c>OTEL_*</c> variables (protocol, headers, timeout).
    /// </summary>
    /// <param name="serviceName">Service name of this role, for example <c>deepgen-coordinator</c>.</param>
    public static IDisposable? StartIfConfigured(string serviceName) => Start(new TelemetryOptions(serviceName));

    /// <summary>Starts the exporters that <paramref name="options"/> turn on; returns null when none is on.</summary>
    /// <exception cref="InvalidOperationException">The Prometheus endpoint could not bind its port.</exception>
    public static IDisposable? Start(TelemetryOptions options)
    {
        var otlp = TelemetryOptions.OtlpConfigured;
        var traces = otlp || options.Console;
        var metrics = traces || options.PrometheusPort > 0;
        if (!metrics)
        {
            return null;
        }

        var resource = ResourceBuilder.CreateDefault()
            .AddService(options.ServiceName, serviceInstanceId: options.InstanceId)
            .AddAttributes([new KeyValuePair<string, object>("host.name", Dns.GetHostName())]);

        TracerProvider? tracer = null;
        if (traces)
        {
            var builder = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .SetSampler(new IterationSampler(options.TraceEverySteps))
                .AddSource(DeepGenTelemetry.SourceName);
            if (otlp)
            {
                builder.AddOtlpExporter();
            }

            if (options.Console)
            {
                builder.AddConsoleExporter();
            }

            tracer = builder.Build();
        }

        var meterBuilder = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(DeepGenTelemetry.SourceName);
        if (otlp)
        {
            meterBuilder.AddOtlpExporter();
        }

        if (options.Console)
        {
            meterBuilder.AddConsoleExporter();
        }

        if (options.PrometheusPort > 0)
        {
            meterBuilder.AddPrometheusHttpListener(listener =>
            {
                listener.Host = BindHost(options.PrometheusHost);
                listener.Port = options.PrometheusPort;
            });
        }

        MeterProvider meter;
        try
        {
            meter = meterBuilder.Build();
        }
        catch (HttpListenerException error)
        {
            tracer?.Dispose();
            throw new InvalidOperationException(
                $"The Prometheus endpoint could not listen on {options.PrometheusHost}:{options.PrometheusPort}: {error.Message}. Choose a free --metrics-port.", error);
        }

        return new Providers(tracer, meter);
    }

    /// <summary>Returns the HttpListener host of the scrape endpoint: <c>+</c> for the any-addresses, IPv6 in brackets.</summary>
    private static string BindHost(string host)
    {
        if (host is "0.0.0.0" or "::" or "*")
        {
            return "+";
        }

        return host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
    }

    private sealed class Providers(TracerProvider? tracer, MeterProvider meter) : IDisposable
    {
        public void Dispose()
        {
            tracer?.Dispose();
            meter.Dispose();
        }
    }
}
