using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace DeepGen.Distributed.Coordinator.Dashboard;

/// <summary>
/// The coordinator's web server for the run page: a Kestrel host with the pages and JSON API of
/// <see cref="RunEndpoints"/>. Pages live in <c>dashboard/</c> next to the program. A later page,
/// for example a sweep of trials, adds its endpoint class, its HTML and JavaScript files and an
/// entry in the navigation of <c>dashboard.js</c>.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DashboardServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>Root URL of the run list, with the port actually bound.</summary>
    public Uri Address { get; }

    /// <summary>Starts serving <paramref name="board"/> on <paramref name="host"/>:<paramref name="port"/> (0 = any free port).</summary>
    /// <exception cref="InvalidOperationException">The address is invalid or the port is in use.</exception>
    /// <param name="mapMore">Maps further pages on the same host, such as the sweep page.</param>
    public static async Task<DashboardServer> StartAsync(RunBoard board, string host, int port, CancellationToken cancellationToken, Action<WebApplication>? mapMore = null)
    {
        if (!IPAddress.TryParse(host, out var address))
        {
            throw new InvalidOperationException($"The run page's host {host} is invalid; give an IP address such as 127.0.0.1.");
        }

        var content = Path.Combine(AppContext.BaseDirectory, "dashboard");
        if (!File.Exists(Path.Combine(content, "lib", "chart.umd.min.js")) || !File.Exists(Path.Combine(content, "run.html")))
        {
            throw new InvalidOperationException($"The run page's files are missing from {content}; rebuild the coordinator (the build installs Chart.js with npm ci).");
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(address, port));
        builder.Services.AddSingleton(board);
        var app = builder.Build();
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = new PhysicalFileProvider(content) });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(content) });
        RunEndpoints.Map(app, board);
        mapMore?.Invoke(app);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException error)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"The run page could not listen on {host}:{port}: {error.Message} Choose another --dashboard-port, or 0 for any free port.", error);
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DashboardServer(app, new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal) + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
