using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DeepGen.Distributed.Telemetry;

/// <summary>Starts OTLP export of traces and metrics when the standard OpenTelemetry variables ask for it.</summary>
public static class TelemetryExport
{
    /// <summary>
    /// Returns providers exporting over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, or null.
    /// The exporter itself reads the other <c>OTEL_*</c> variables (protocol, headers, timeout).
    /// </summary>
    /// <param name="serviceName">Service name of this role, for example <c>deepgen-coordinator</c>.</param>
    public static IDisposable? StartIfConfigured(string serviceName)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            return null;
        }

        var resource = ResourceBuilder.CreateDefault().AddService(serviceName);
        var tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(DeepGenTelemetry.SourceName)
            .AddOtlpExporter()
            .Build();
        var meter = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(DeepGenTelemetry.SourceName)
            .AddOtlpExporter()
            .Build();
        return new Providers(tracer, meter);
    }

    private sealed class Providers(TracerProvider tracer, MeterProvider meter) : IDisposable
    {
        public void Dispose()
        {
            tracer.Dispose();
            meter.Dispose();
        }
    }
}
