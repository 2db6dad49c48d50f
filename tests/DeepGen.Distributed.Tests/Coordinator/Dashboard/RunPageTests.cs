using System.Text.RegularExpressions;
using Akka.Event;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Cli;
using DeepGen.Distributed.Coordinator.Dashboard;
using DeepGen.Distributed.Coordinator.Monitoring;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Tests.Coordinator.Cli;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Dashboard;

/// <summary>The coordinator's run page, loaded in headless Chromium while a two-worker run trains.</summary>
public sealed partial class RunPageTests
{
    private static readonly string[] Charts = ["loss", "evaluation", "throughput", "phases", "ranks"];

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Run_page_shows_live_run()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var board = new RunBoard();
        await using var dashboard = await DashboardServer.StartAsync(board, "127.0.0.1", 0, CancellationToken.None);

        // 1,600 images / (2 workers × 32) = 25 steps per epoch; images appear after each epoch.
        var config = new TrainingConfig(Workers: 2, Epochs: 8, BatchSizePerWorker: 32, TrainLimit: 1600, TestLimit: 200, DataDirectory: FashionMnist.DefaultDirectory);
        var runDirectory = Path.Combine(folder.Path, "run");
        var monitor = new RunMonitor(board.Open(runDirectory), new StragglerPolicy(1.5, 5), NoLogger.Instance);
        await using var cluster = LocalCluster.StartCoordinator("127.0.0.1", 0, "WARNING");
        cluster.StartWorkers(2, "WARNING");
        var run = cluster.RunAsync(new StartRun(config, runDirectory, new CompositeObserver(new RecordingObserver(), monitor), TimeSpan.FromSeconds(60)), CancellationToken.None);

        for (var i = 0; i < 600 && (monitor.Record.Id is null || monitor.Record.Details(0).Images.Count < 2) && !run.IsCompleted; i++)
        {
            await Task.Delay(100);
        }

        var details = monitor.Record.Details(0);
        Assert.True(details.Images.Count >= 2, "no sample images within 60 s");
        var url = new Uri(dashboard.Address, $"runs/{details.Summary.Id}").AbsoluteUri;
        var status = details.Summary.Status;

        // The page embeds the run's state and renders it before the load event, where Chromium
        // takes the DOM. Virtual time is off: the page's endless polling would keep it waiting.
        var dom = HeadlessChromium.DumpDom(url, folder.Path, virtualTimeMs: 0);
        var screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "run-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        HeadlessChromium.Screenshot(url, screenshot, folder.Path);

        Assert.Equal("running", status);
        foreach (var chart in Charts)
        {
            var points = Regex.Match(dom, $"<canvas id=\"chart-{chart}\"[^>]*data-points=\"([0-9]+)\"");
            Assert.True(points.Success, $"chart {chart} was not drawn:\n{dom}");
            Assert.True(int.Parse(points.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, $"chart {chart} has no points");
        }

        var workerRows = WorkerRow().Count(dom);
        Assert.Equal(2, workerRows);
        var imageUrls = ImageSource().Matches(dom).Select(m => m.Groups[1].Value).ToList();
        Assert.True(imageUrls.Count >= 2, $"fewer than 2 sample images on the page:\n{dom}");
        using var http = new HttpClient { BaseAddress = dashboard.Address, Timeout = TimeSpan.FromSeconds(10) };
        foreach (var imageUrl in imageUrls)
        {
            var png = await http.GetByteArrayAsync(imageUrl);
            Assert.Equal(PngSignature, png.Take(8));
        }

        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is nearly empty");

        var outcome = await run.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.IsType<RunCompleted>(outcome);
    }

    [Fact]
    public void Run_files_stay_inside_served_folders()
    {
        using var folder = new TemporaryDirectory();
        Directory.CreateDirectory(Path.Combine(folder.Path, "images"));
        Directory.CreateDirectory(Path.Combine(folder.Path, "checkpoints"));
        File.WriteAllText(Path.Combine(folder.Path, "images", "samples-epoch-001.png"), "png");
        File.WriteAllText(Path.Combine(folder.Path, "checkpoints", "final.ckpt"), "weights");

        Assert.NotNull(RunEndpoints.ResolveRunFile(folder.Path, "images/samples-epoch-001.png"));
        Assert.Null(RunEndpoints.ResolveRunFile(folder.Path, "checkpoints/final.ckpt"));
        Assert.Null(RunEndpoints.ResolveRunFile(folder.Path, "images/../checkpoints/final.ckpt"));
        Assert.Null(RunEndpoints.ResolveRunFile(folder.Path, "../outside.png"));
        Assert.Null(RunEndpoints.ResolveRunFile(folder.Path, "images/missing.png"));
    }

    [GeneratedRegex("<tr><td>[01]</td><td>local-[01]</td>")]
    private static partial Regex WorkerRow();

    [GeneratedRegex("<img src=\"(/runs/[^\"]+/files/images/[^\"]+\\.png)\"")]
    private static partial Regex ImageSource();
}
