using System.Net;
using DeepGen.Distributed.Coordinator.Sweeps.Dashboard;
using DeepGen.Distributed.Coordinator.Sweeps.Output;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace DeepGen.Distributed.Tests.Sweeps;

/// <summary>The sweep page mounted on a Kestrel host on loopback, as the run dashboard will mount it.</summary>
public sealed class SweepDashboardTests
{
    [Fact]
    public async Task Dashboard_serves_page_and_results()
    {
        using var folder = new TemporaryDirectory();
        var sweep = Path.Combine(folder.Path, "lr-beta");
        var store = new SweepStore(sweep);
        store.Create("# page test\n");
        var state = new SweepState
        {
            Metric = "test_neg_elbo",
            Mode = "min",
            Scheduler = "asha",
            Slots = 2,
            BestTrialId = "trial-000",
            Trials =
            [
                new TrialRecord { Id = "trial-000", Parameters = new Dictionary<string, string> { ["lr"] = "0.001" }, RunDirectory = "trials/trial-000", Status = TrialStatus.Completed, FinalMetric = 270, Curve = [new MetricPoint(1.5, 1, 20, 300)] },
            ],
        };
        store.Save(state, [1]);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapSweepDashboard(folder.Path);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) };

        using var listResponse = await client.GetAsync("/sweeps");
        var list = await listResponse.Content.ReadAsStringAsync();
        Assert.True(listResponse.IsSuccessStatusCode, $"GET /sweeps returned {listResponse.StatusCode}: {list}");
        var page = await client.GetStringAsync("/sweeps/lr-beta/");
        var results = await client.GetStringAsync("/sweeps/lr-beta/results.json");
        var missing = await client.GetAsync("/sweeps/other/results.json");
        var traversal = await client.GetAsync("/sweeps/..%2F..%2Fetc/results.json");
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) };
        var withoutSlash = await noRedirect.GetAsync("/sweeps/lr-beta");

        Assert.Contains("\"name\":\"lr-beta\"", list, StringComparison.Ordinal);
        Assert.Contains("fetch(\"results.json\"", page, StringComparison.Ordinal);
        Assert.Contains("\"bestTrialId\": \"trial-000\"", results, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
        Assert.Equal("/sweeps/lr-beta/", withoutSlash.Headers.Location?.ToString());
        await app.StopAsync();
    }
}
