using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace DeepGen.Distributed.Tests.Coordinator.Monitoring;

/// <summary>A Prometheus server (/usr/bin/prometheus) on loopback that scrapes one target every second.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private const string Executable = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, int port)
    {
        _process = process;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Starts the server with a generated configuration in <paramref name="folder"/> and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string folder, int targetPort)
    {
        Assert.True(File.Exists(Executable), "Prometheus is missing: install the Debian package prometheus (./test.sh does).");
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: deepgen
                static_configs:
                  - targets: ["127.0.0.1:{targetPort}"]
            """);
        var port = TelemetryRunFixture.FreePort();
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "tsdb")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("prometheus did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, port);
        for (var attempt = 0; attempt < 150; attempt++)
        {
            if (process.HasExited)
            {
                break;
            }

            try
            {
                using var ready = await server._http.GetAsync("-/ready");
                if (ready.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        await server.DisposeAsync();
        throw new TimeoutException($"Prometheus on 127.0.0.1:{port} was not ready within 30 s (exited: {process.HasExited}).");
    }

    /// <summary>
    /// Runs an instant query until it returns at least one series, for at most <paramref name="timeout"/>,
    /// and returns the <c>data.result</c> array of the last response.
    /// </summary>
    public async Task<JsonElement> QueryUntilPresentAsync(string promQl, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await _http.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(promQl));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"query {promQl} failed: {body}");
            using var document = JsonDocument.Parse(body);
            var result = document.RootElement.GetProperty("data").GetProperty("result").Clone();
            if (result.GetArrayLength() > 0 || clock.Elapsed > timeout)
            {
                return result;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Returns the value of an instant-query series (<c>[time, "value"]</c>).</summary>
    public static double Value(JsonElement series) =>
        double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }
}
