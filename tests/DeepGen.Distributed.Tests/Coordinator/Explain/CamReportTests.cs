using System.Text.Json;
using System.Text.RegularExpressions;
using DeepGen.Distributed.Coordinator.Explain;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Tests.Coordinator.Explain;

/// <summary>CAM reports written from the stored classifier and a DCGAN, and opened in headless Chromium.</summary>
public sealed partial class CamReportTests
{
    private static readonly string[] Decisions = ["real", "generated"];

    private static readonly Lazy<ImageDataset> TestSet = new(() => FashionMnist.Load(FashionMnist.DefaultDirectory, DatasetSplit.Test));

    [Fact]
    public void Classifier_report_shows_every_image_in_chromium()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var stored = Checkpoint.Read(Path.Combine(ProcessRunner.RepositoryRoot, "models", "fashion-mnist-classifier.ckpt"));
        using var model = new ClassifierCnn(new ClassifierOptions());
        ParameterCodec.Decode(stored.Weights, model);
        var probe = CamReport.ProbeIndices(TestSet.Value, 1);

        var page = CamReport.WriteForClassifier(model, TestSet.Value, probe, folder.Path, "stored classifier", stored.Epoch, stored.Step, 0.286f);

        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder.Path, "index.json")));
        var entries = index.RootElement.GetProperty("entries");
        Assert.Equal(10, entries.GetArrayLength());
        Assert.Equal("CAM", index.RootElement.GetProperty("method").GetString());
        Assert.Equal(3, index.RootElement.GetProperty("faithfulness").GetArrayLength());
        foreach (var entry in entries.EnumerateArray())
        {
            Assert.True(File.Exists(Path.Combine(folder.Path, entry.GetProperty("overlay").GetString()!)));
        }

        Assert.Equal("images loaded: 20 of 20", ImagesLoadedInChromium(page, folder.Path));
    }

    [Fact]
    public void Discriminator_report_explains_real_and_generated_images()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryDirectory();
        var config = new DeepGen.Distributed.Configuration.TrainingConfig(Model: "gan", LatentSize: 64);
        using var networks = new GanNetworks("dcgan", new DcganOptions(64));
        ParameterCodec.Decode(ReplicaFactory.InitialWeights(config, 28, 28), networks);
        var probe = CamReport.ProbeIndices(TestSet.Value, 1).Take(4).ToArray();

        var page = CamReport.WriteForDiscriminator(networks, TestSet.Value, probe, generatedCount: 4, seed: 3, folder.Path, "untrained DCGAN", 0, 0);

        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder.Path, "index.json")));
        var entries = index.RootElement.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal("Grad-CAM", index.RootElement.GetProperty("method").GetString());
        Assert.Equal(4, entries.Count(e => e.GetProperty("source").GetString() == "test"));
        Assert.Equal(4, entries.Count(e => e.GetProperty("source").GetString() == "generated"));
        Assert.All(entries, e => Assert.Contains(e.GetProperty("decision").GetString(), Decisions));
        Assert.Equal("images loaded: 16 of 16", ImagesLoadedInChromium(page, folder.Path));
    }

    [Fact]
    public void Cam_command_explains_an_idx_file()
    {
        using var folder = new TemporaryDirectory();
        var test = TestSet.Value.Slice(0, 5);
        var imagesPath = folder.File("five.idx3");
        IdxReader.WriteImages(imagesPath, new IdxImages(test.Count, test.Rows, test.Columns, test.Pixels), gzip: false);
        var output = Path.Combine(folder.Path, "report");

        var (exitCode, text) = ProcessRunner.Run(
            "dotnet",
            [ProcessRunner.Program("deepgen"), "cam", "--checkpoint", Path.Combine(ProcessRunner.RepositoryRoot, "models", "fashion-mnist-classifier.ckpt"), "--images", imagesPath, "--output", output],
            TimeSpan.FromMinutes(2));

        Assert.True(exitCode == 0, text);
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "index.json")));
        var entries = index.RootElement.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(5, entries.Count);
        Assert.All(entries, e => Assert.Equal("input", e.GetProperty("source").GetString()));
        Assert.All(entries, e => Assert.Equal(-1, e.GetProperty("label").GetInt32()));
    }

    [Fact]
    public void Cam_command_rejects_a_vae_checkpoint()
    {
        using var folder = new TemporaryDirectory();
        var path = folder.File("vae.ckpt");
        Checkpoint.Write(path, new(new DeepGen.Distributed.Configuration.TrainingConfig(Model: "vae"), 1, 1, [0, 0, 0, 0]));

        var (exitCode, text) = ProcessRunner.Run("dotnet", [ProcessRunner.Program("deepgen"), "cam", "--checkpoint", path, "--output", folder.File("out")], TimeSpan.FromMinutes(1));

        Assert.Equal(2, exitCode);
        Assert.Contains("CAM needs a classifier or a DCGAN", text, StringComparison.Ordinal);
    }

    /// <summary>Loads the page in headless Chromium and returns the count that the page's own script reports.</summary>
    private static string ImagesLoadedInChromium(string page, string scratch)
    {
        var output = HeadlessChromium.DumpDom(new Uri(page).AbsoluteUri, scratch);
        var match = ImagesLoaded().Match(output);
        Assert.True(match.Success, "the page's image check did not run:\n" + output);
        return match.Value;
    }

    [GeneratedRegex("images loaded: [0-9]+ of [0-9]+")]
    private static partial Regex ImagesLoaded();
}
