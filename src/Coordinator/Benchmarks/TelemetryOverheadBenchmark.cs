using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Telemetry;

namespace DeepGen.Distributed.Coordinator.Benchmarks;

/// <summary>Throughput of the VAE training benchmark with full tracing and metrics export, next to none.</summary>
/// <param name="OffSamplesPerSecond">Samples/s of each run without telemetry.</param>
/// <param name="OnSamplesPerSecond">Samples/s of each run with telemetry, paired with the run before it.</param>
/// <param name="ExportRequests">OTLP requests that the loopback sink received, which shows that the spans and metrics were exported.</param>
public sealed record TelemetryOverheadResult(IReadOnlyList<double> OffSamplesPerSecond, IReadOnlyList<double> OnSamplesPerSecond, int ExportRequests)
{
    /// <summary>Mean throughput with telemetry divided by the mean without.</summary>
    public double Ratio => OnSamplesPerSecond.Average() / OffSamplesPerSecond.Average();
}

/// <summary>
/// Runs the VAE training benchmark in pairs, first without telemetry, then with all of it. With
/// telemetry, every step is traced (a step span per rank with its four phase spans) and the
/// metrics are served on a Prometheus endpoint. Traces and metrics are also exported over
/// OTLP/HTTP to a sink on loopback that this benchmark runs. Alternating the two evens out slow
/// drifts of a shared machine.
/// </summary>
public static class TelemetryOverheadBenchmark
{
    public static TelemetryOverheadResult Measure(ImageDataset data, int workers, int threads, int batchPerWorker, int steps, int pairs)
    {
        var off = new List<double>();
        var on = new List<double>();
        using var sink = new OtlpSink();
        for (var pair = 0; pair < pairs; pair++)
        {
            off.Add(TrainingBenchmark.MeasureVae(data, workers, threads, batchPerWorker, steps).SamplesPerSecond);
            on.Add(MeasureTraced(data, workers, threads, batchPerWorker, steps, sink.Endpoint));
        }

        return new TelemetryOverheadResult(off, on, sink.Requests);
    }

    private static double MeasureTraced(ImageDataset data, int workers, int threads, int batchPerWorker, int steps, string endpoint)
    {
        var previousEndpoint = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        var previousProtocol = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL");
        Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
        Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        try
        {
            using var telemetry = TelemetryExport.Start(new TelemetryOptions("deepgen-bench") { PrometheusPort = FreePort(), TraceEverySteps = 1 });
            using var epoch = DeepGenTelemetry.ActivitySource.StartActivity("epoch");
            var parent = epoch?.Context ?? default;
            Activity.Current = null;
            return TrainingBenchmark.MeasureVae(data, workers, threads, batchPerWorker, steps, traceParent: parent).SamplesPerSecond;
        }
        finally
        {
            Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT", previousEndpoint);
            Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL", previousProtocol);
        }
    }

    /// <summary>Formats the result as a Markdown table with one row per pair.</summary>
    public static string Table(TelemetryOverheadResult result, int workers, int batchPerWorker, int steps)
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"Telemetry overhead, VAE {workers} workers × batch {batchPerWorker}, {steps} timed steps per run:");
        table.AppendLine();
        table.AppendLine("| pair | off samples/s | on samples/s | on ÷ off |");
        table.AppendLine("| ---: | ---: | ---: | ---: |");
        for (var i = 0; i < result.OffSamplesPerSecond.Count; i++)
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {i + 1} | {result.OffSamplesPerSecond[i]:N0} | {result.OnSamplesPerSecond[i]:N0} | {result.OnSamplesPerSecond[i] / result.OffSamplesPerSecond[i]:F3} |"));
        }

        table.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| mean | {result.OffSamplesPerSecond.Average():N0} | {result.OnSamplesPerSecond.Average():N0} | {result.Ratio:F3} |"));
        table.AppendLine();
        table.AppendLine(CultureInfo.InvariantCulture, $"OTLP export requests received by the loopback sink: {result.ExportRequests}");
        return table.ToString();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Accepts OTLP/HTTP exports on loopback and replies to each with an empty success, as a collector would.</summary>
    private sealed class OtlpSink : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Thread _thread;
        private int _requests;

        public OtlpSink()
        {
            var port = FreePort();
            Endpoint = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Endpoint + "/");
            _listener.Start();
            _thread = new Thread(Serve) { IsBackground = true, Name = "otlp-sink" };
            _thread.Start();
        }

        public string Endpoint { get; }

        public int Requests => Volatile.Read(ref _requests);

        public void Dispose()
        {
            _listener.Close();
            _thread.Join(TimeSpan.FromSeconds(5));
        }

        private void Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = _listener.GetContext();
                }
                catch (Exception error) when (error is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                context.Request.InputStream.CopyTo(Stream.Null);
                Interlocked.Increment(ref _requests);
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }
    }
}
