using System.Globalization;
using System.Text.Json;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Output;

namespace DeepGen.Distributed.Tests.Output;

public sealed class RunOutputTests : IDisposable
{
    private static readonly TrainingConfig Config = new(Workers: 3, Epochs: 2, BatchSizePerWorker: 64, Beta: 0.5, TestLimit: 500);
    private static readonly JsonSerializerOptions CamelCase = new(JsonSerializerDefaults.Web);

    private readonly TemporaryDirectory folder = new();

    public void Dispose() => folder.Dispose();

    private string RunDirectory => folder.File("run");

    [Fact]
    public void Appended_steps_appear_after_flush()
    {
        using var output = RunOutput.Create(RunDirectory, Config);

        output.AppendStep(1, 0, 543.25, [530.5, 12.75], 1234.5, 0.1037, 0.0123, 2, 256);
        output.AppendStep(2, 0, 0.1 + 0.2, [1e-7, 1.0 / 3.0], 9999.875, 2.5, 0.5, 3, 384);
        output.Flush();

        var lines = ReadLines(Path.Combine(RunDirectory, "metrics.csv"));
        Assert.Equal(3, lines.Length);
        Assert.Equal("step,epoch,loss,reconstruction,kl,samples_per_second,step_seconds,allreduce_seconds,world_size,global_batch,unix_time", lines[0]);
        Assert.StartsWith("1,0,543.25,530.5,12.75,1234.5,0.1037,0.0123,2,256,", lines[1], StringComparison.Ordinal);

        var second = lines[2].Split(',');
        Assert.Equal(11, second.Length);
        Assert.Equal("3", second[8]);
        Assert.Equal("384", second[9]);
        var written = double.Parse(second[10], CultureInfo.InvariantCulture);
        Assert.InRange(written, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal(0.1 + 0.2, double.Parse(second[2], CultureInfo.InvariantCulture));
        Assert.Equal(1e-7, double.Parse(second[3], CultureInfo.InvariantCulture));
        Assert.Equal(1.0 / 3.0, double.Parse(second[4], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Appended_steps_are_flushed_within_interval()
    {
        using var output = RunOutput.Create(RunDirectory, Config);

        output.AppendStep(1, 0, 1, [1, 0], 100, 0.5, 0.1);
        Thread.Sleep(RunOutput.MetricsFlushInterval * 2);

        var lines = ReadLines(Path.Combine(RunDirectory, "metrics.csv"));
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("1,0,", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluation_rows_are_written_at_once()
    {
        using var output = RunOutput.Create(RunDirectory, Config);

        output.AppendEvaluation(1, 469, [290.5, 270.25, 20.25]);

        var lines = ReadLines(Path.Combine(RunDirectory, "evaluation.csv"));
        Assert.Equal(["epoch,step,test_neg_elbo,test_reconstruction,test_kl", "1,469,290.5,270.25,20.25"], lines);
    }

    [Fact]
    public void Config_json_round_trips()
    {
        using (RunOutput.Create(RunDirectory, Config))
        {
        }

        string json = File.ReadAllText(Path.Combine(RunDirectory, "config.json"));
        var read = JsonSerializer.Deserialize<TrainingConfig>(json, CamelCase);

        Assert.Equal(Config, read);
        Assert.Contains("\"batchSizePerWorker\": 64", json, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(RunDirectory, "config.json.tmp")));
    }

    [Fact]
    public void Second_create_on_used_folder_is_rejected()
    {
        using (var first = RunOutput.Create(RunDirectory, Config))
        {
            first.AppendStep(1, 0, 1, [1, 0], 100, 0.5, 0.1);
        }

        var error = Assert.Throws<InvalidOperationException>(() => RunOutput.Create(RunDirectory, Config));

        Assert.Contains(Path.GetFullPath(RunDirectory), error.Message, StringComparison.Ordinal);
        Assert.Contains("--output", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, ReadLines(Path.Combine(RunDirectory, "metrics.csv")).Length);
    }

    [Fact]
    public void Image_path_names_kind_and_epoch()
    {
        using var output = RunOutput.Create(RunDirectory, Config);

        string path = output.ImagePath("samples", 7);

        Assert.Equal(Path.Combine(Path.GetFullPath(RunDirectory), "images", "samples-epoch-007.png"), path);
        Assert.True(Directory.Exists(Path.GetDirectoryName(path)));
        Assert.Throws<ArgumentException>(() => output.ImagePath("../samples", 1));
    }

    [Fact]
    public void Checkpoint_is_written_under_checkpoints()
    {
        using var output = RunOutput.Create(RunDirectory, Config);
        byte[] weights = [1, 2, 3, 4, 5];

        string path = output.WriteCheckpoint("epoch-002.ckpt", Config, 2, 938, weights);
        var read = Checkpoint.Read(path);

        Assert.Equal(Path.Combine(Path.GetFullPath(RunDirectory), "checkpoints", "epoch-002.ckpt"), path);
        Assert.Equal(Config, read.Config);
        Assert.Equal(2, read.Epoch);
        Assert.Equal(938, read.Step);
        Assert.Equal(weights, read.Weights);
    }

    /// <summary>Reads a file that the run output may still have open for writing.</summary>
    private static string[] ReadLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
