using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using DeepGen.Distributed.Coordinator.Sweeps.Output;

namespace DeepGen.Distributed.Coordinator.Sweeps.Dashboard;

/// <summary>
/// Sweep pages for an ASP.NET Core host. Mount them with
/// <c>app.MapSweepDashboard("sweeps")</c>: <c>GET /sweeps</c> lists the sweep folders under the
/// root as JSON, <c>GET /sweeps/{name}/</c> serves the page (a sortable trial table and the
/// metric-against-time curve of every trial) and <c>GET /sweeps/{name}/results.json</c> serves the
/// table the page reads. The page is a single static file with no external scripts.
/// </summary>
public static class SweepDashboardEndpoints
{
    private const string PageResource = "DeepGen.Distributed.Coordinator.Sweeps.Dashboard.sweep.html";

    /// <summary>Maps the sweep endpoints under <paramref name="prefix"/> and returns the group for further conventions (authorization, for example).</summary>
    /// <param name="sweepsRoot">Folder whose subfolders are sweep folders written by <c>deepgen sweep --output</c>.</param>
    public static RouteGroupBuilder MapSweepDashboard(this IEndpointRouteBuilder endpoints, string sweepsRoot, string prefix = "/sweeps")
    {
        var root = Path.GetFullPath(sweepsRoot);
        var page = ReadPage();
        var group = endpoints.MapGroup(prefix);
        group.MapGet("/", () => Results.Json(ListSweeps(root)));
        group.MapGet("/{name}/", (string name, HttpContext context) =>
        {
            if (SweepFolder(root, name) is null)
            {
                return Results.NotFound();
            }

            // Routing matches with and without the trailing slash, but the page fetches
            // results.json relative to its own address, which needs the slash.
            var path = context.Request.Path.Value ?? "";
            return path.EndsWith('/')
                ? Results.Content(page, "text/html; charset=utf-8")
                : Results.Redirect($"{context.Request.PathBase}{path}/");
        });
        group.MapGet("/{name}/results.json", (string name) =>
            SweepFolder(root, name) is { } folder ? Results.File(Path.Combine(folder, SweepStore.ResultsJsonFileName), "application/json") : Results.NotFound());
        return group;
    }

    /// <summary>Returns the sweep folder named <paramref name="name"/> under <paramref name="root"/>, or null when the name is not a plain folder name or the folder contains no results.</summary>
    private static string? SweepFolder(string root, string name)
    {
        if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(['/', '\\']) >= 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            return null;
        }

        var folder = Path.Combine(root, name);
        return File.Exists(Path.Combine(folder, SweepStore.ResultsJsonFileName)) ? folder : null;
    }

    private static List<SweepSummary> ListSweeps(string root)
    {
        if (!Directory.Exists(root))
        {
            return [];
        }

        var summaries = new List<SweepSummary>();
        foreach (var folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            if (SweepStore.ReadResults(folder) is { } results)
            {
                summaries.Add(new SweepSummary(Path.GetFileName(folder), results.Scheduler, results.Metric, results.Finished, results.Trials.Count, results.BestTrialId, results.BestMetric));
            }
        }

        return summaries;
    }

    private static string ReadPage()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(PageResource)
            ?? throw new InvalidOperationException($"The embedded resource {PageResource} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>A row of the sweep list.</summary>
    private sealed record SweepSummary(string Name, string Scheduler, string Metric, bool Finished, int Trials, string? BestTrialId, double? BestMetric);
}
