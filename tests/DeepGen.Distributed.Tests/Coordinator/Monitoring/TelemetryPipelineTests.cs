using System.Text.Json;
using System.Text.RegularExpressions;
using DeepGen.Distributed.Telemetry;

namespace DeepGen.Distributed.Tests.Coordinator.Monitoring;

/// <summary>Traces, the Prometheus endpoint and the Grafana dashboard, checked on one short run.</summary>
public sealed partial class TelemetryPipelineTests(TelemetryRunFixture run) : IClassFixture<TelemetryRunFixture>
{
    private static readonly string[] PhaseSpans = ["data", "forward_backward", "allreduce", "optimizer"];

    private static readonly string[] RequiredPanels = ["Loss terms", "Throughput", "Step-time breakdown", "Step time per worker", "Workers alive", "Evaluation metrics"];

    [Fact]
    public void Step_spans_share_coordinator_trace()
    {
        var spans = run.Spans.Where(s => Equals(s.GetTagItem(DeepGenTelemetry.RunIdTag), run.Run.RunId) || s.GetTagItem(DeepGenTelemetry.RunIdTag) is null).ToList();
        var runSpan = Assert.Single(spans, s => s.OperationName == "run" && Equals(s.GetTagItem(DeepGenTelemetry.RunIdTag), run.Run.RunId));
        var epochs = spans.Where(s => s.OperationName == "epoch" && s.TraceId == runSpan.TraceId).ToList();
        Assert.Equal(2, epochs.Count);
        var secondEpoch = Assert.Single(epochs, e => Equals(e.GetTagItem("deepgen.epoch"), 2));
        Assert.Equal(runSpan.SpanId, secondEpoch.ParentSpanId);

        // Step 30 is the fifth step of epoch 2, on both ranks.
        var stepSpans = spans.Where(s => s.OperationName == IterationTrace.StepSpanName && Equals(s.GetTagItem(IterationTrace.StepTag), 30L)).ToList();
        Assert.Equal(2, stepSpans.Count);
        Assert.Equal([0, 1], stepSpans.Select(s => (int)s.GetTagItem(DeepGenTelemetry.RankTag)!).Order());
        foreach (var step in stepSpans)
        {
            Assert.Equal(runSpan.TraceId, step.TraceId);
            Assert.Equal(secondEpoch.SpanId, step.ParentSpanId);
            var phases = run.Spans.Where(s => s.ParentSpanId == step.SpanId).ToList();
            Assert.Equal(PhaseSpans, phases.OrderBy(p => p.StartTimeUtc).Select(p => p.OperationName));
            var allReduce = Assert.Single(phases, p => p.OperationName == "allreduce");
            Assert.Equal(2, allReduce.GetTagItem("deepgen.allreduce.peers"));
            Assert.True((long)allReduce.GetTagItem("deepgen.allreduce.bytes")! > 0);
        }

        Assert.Contains(runSpan.Events, e => e.Name == "ring_formed");
        Assert.Contains(epochs.SelectMany(e => e.Events), e => e.Name == "checkpoint_written");
        Assert.Contains(run.Spans, s => s.OperationName == "evaluate");
    }

    [Fact]
    public async Task Prometheus_returns_loss_series()
    {
        // Other tests train meanwhile in this process, so every query selects this run.
        var selector = $"{{term=\"loss\",run_id=\"{run.Run.RunId}\"}}";
        var loss = await run.Prometheus.QueryUntilPresentAsync("deepgen_train_loss_nat" + selector, TimeSpan.FromSeconds(30));
        var series = Assert.Single(loss.EnumerateArray());
        Assert.InRange(PrometheusServer.Value(series), 50, 600);

        // The series is stored in Prometheus's database, not only in the latest scrape.
        var samples = await run.Prometheus.QueryUntilPresentAsync($"count_over_time(deepgen_train_loss_nat{selector}[5m])", TimeSpan.FromSeconds(10));
        Assert.True(PrometheusServer.Value(samples[0]) >= 1);

        var workers = await run.Prometheus.QueryUntilPresentAsync($"deepgen_worker_step_duration_seconds{{run_id=\"{run.Run.RunId}\"}}", TimeSpan.FromSeconds(10));
        Assert.Equal(2, workers.GetArrayLength());
    }

    [Fact]
    public async Task Grafana_panels_query_exported_metrics()
    {
        var path = Path.Combine(ProcessRunner.RepositoryRoot, "deploy", "telemetry", "grafana", "dashboards", "deepgen-training.json");
        using var dashboard = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        foreach (var title in RequiredPanels)
        {
            Assert.Contains(panels, p => p.GetProperty("title").GetString()!.StartsWith(title, StringComparison.Ordinal));
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var scrape = await http.GetStringAsync($"http://127.0.0.1:{run.MetricsPort}/metrics");
        var exported = MetricName().Matches(scrape).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        foreach (var panel in panels)
        {
            var queries = panel.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!).ToList();
            Assert.NotEmpty(queries);
            foreach (var query in queries)
            {
                var names = MetricName().Matches(query).Select(m => m.Value).ToList();
                Assert.True(names.Count > 0, $"panel {panel.GetProperty("title")} queries no deepgen metric: {query}");
                foreach (var name in names)
                {
                    Assert.True(exported.Contains(name), $"panel {panel.GetProperty("title")} queries {name}, which the endpoint does not export");
                }
            }
        }
    }

    [GeneratedRegex("deepgen_[a-z_]+")]
    private static partial Regex MetricName();
}
