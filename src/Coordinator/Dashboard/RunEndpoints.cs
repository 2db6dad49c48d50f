using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;

namespace DeepGen.Distributed.Coordinator.Dashboard;

/// <summary>
/// HTTP endpoints of the run list and the run page: <c>/api/runs</c> (list),
/// <c>/api/runs/{id}?after=STEP</c> (one run, with the steps after STEP), <c>/runs/{id}</c> (the
/// page) and <c>/runs/{id}/files/images|cam/...</c> (the run's images and CAM reports).
/// </summary>
public static class RunEndpoints
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Top folders of a run that the page may load files from; checkpoints and CSVs stay private.</summary>
    private static readonly string[] ServedFolders = ["images", "cam"];

    public static void Map(WebApplication app, RunBoard board)
    {
        app.MapGet("/api/runs", () => board.Runs().Select(r => r.Summary()).ToList());

        app.MapGet("/api/runs/{id}", (string id, string? after) =>
        {
            var run = board.Find(id);
            if (run is null)
            {
                return Results.NotFound(new { error = $"no run {id} on this coordinator" });
            }

            var afterStep = long.TryParse(after, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;
            return Results.Ok(run.Details(afterStep));
        });

        app.MapGet("/runs/{id}", async (string id) =>
        {
            var run = board.Find(id);
            if (run is null)
            {
                return Results.NotFound($"No run {id} on this coordinator.");
            }

            // The page starts with the run's current state embedded, then polls for changes.
            // System.Text.Json escapes '<', '>' and '&', so the JSON cannot close the script element.
            var page = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "dashboard", "run.html")).ConfigureAwait(false);
            var state = JsonSerializer.Serialize(run.Details(0), JsonOptions);
            page = page.Replace("<!-- initial-data -->", $"<script id=\"initial-data\" type=\"application/json\">{state}</script>", StringComparison.Ordinal);
            return Results.Content(page, "text/html; charset=utf-8");
        });

        app.MapGet("/runs/{id}/files/{**path}", (string id, string path) =>
        {
            var run = board.Find(id);
            if (run is null)
            {
                return Results.NotFound();
            }

            var file = ResolveRunFile(run.Directory, path);
            if (file is null)
            {
                return Results.NotFound();
            }

            var contentType = ContentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream";
            return Results.File(file, contentType);
        });
    }

    /// <summary>Returns the full path of <paramref name="relativePath"/> inside an allowed folder of the run, or null.</summary>
    public static string? ResolveRunFile(string runDirectory, string relativePath)
    {
        var root = Path.GetFullPath(runDirectory);
        var full = Path.GetFullPath(Path.Combine(root, relativePath));
        var inside = ServedFolders.Any(folder => full.StartsWith(Path.Combine(root, folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        return inside && File.Exists(full) ? full : null;
    }
}
