using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Output;

namespace DeepGen.Distributed.Tests.Output;

public sealed class CheckpointTests : IDisposable
{
    private readonly TemporaryDirectory folder = new();

    public void Dispose() => folder.Dispose();

    private static CheckpointData CreateData(int epoch = 3, long step = 1234)
    {
        var config = new TrainingConfig(Workers: 4, Epochs: 7, LearningRate: 3e-4, Seed: 42, TrainLimit: 600);
        var weights = new byte[4096];
        new Random(epoch).NextBytes(weights);
        return new CheckpointData(config, epoch, step, weights);
    }

    [Fact]
    public void Round_trip_preserves_every_field()
    {
        string path = folder.File("model.ckpt");
        var written = CreateData();

        Checkpoint.Write(path, written);
        var read = Checkpoint.Read(path);

        Assert.Equal(written.Config, read.Config);
        Assert.Equal(written.Epoch, read.Epoch);
        Assert.Equal(written.Step, read.Step);
        Assert.Equal(written.Weights, read.Weights);
    }

    [Fact]
    public void Write_leaves_no_temporary_file()
    {
        string path = folder.File("model.ckpt");

        Checkpoint.Write(path, CreateData());

        Assert.True(File.Exists(path));
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(["model.ckpt"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_replaces_existing_checkpoint()
    {
        string path = folder.File("model.ckpt");
        Checkpoint.Write(path, CreateData(epoch: 1, step: 100));

        var second = CreateData(epoch: 2, step: 200);
        Checkpoint.Write(path, second);
        var read = Checkpoint.Read(path);

        Assert.Equal(2, read.Epoch);
        Assert.Equal(200, read.Step);
        Assert.Equal(second.Weights, read.Weights);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999)]
    public void Flipped_byte_is_rejected_as_sha256_mismatch(double position)
    {
        string path = folder.File("model.ckpt");
        Checkpoint.Write(path, CreateData());
        var bytes = File.ReadAllBytes(path);
        int index = (int)(bytes.Length * position);
        bytes[index] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));

        Assert.Contains("corrupt: SHA-256 mismatch", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(1000)]
    public void Truncated_file_is_rejected(int removedBytes)
    {
        string path = folder.File("model.ckpt");
        Checkpoint.Write(path, CreateData());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^removedBytes]);

        var error = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_shorter_than_prefix_is_rejected()
    {
        string path = folder.File("model.ckpt");
        File.WriteAllBytes(path, "DGCK"u8.ToArray());

        var error = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_magic_is_rejected()
    {
        string path = folder.File("model.ckpt");
        Checkpoint.Write(path, CreateData());
        var bytes = File.ReadAllBytes(path);
        "PK\u0003\u0004"u8.CopyTo(bytes);
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));

        Assert.Contains("not a DeepGen checkpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_version_is_rejected()
    {
        string path = folder.File("model.ckpt");
        Checkpoint.Write(path, CreateData());
        var bytes = File.ReadAllBytes(path);
        bytes[4] = 99;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));

        Assert.Contains("format version 99 is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_is_rejected()
    {
        string path = folder.File("absent.ckpt");

        var error = Assert.Throws<CheckpointException>(() => Checkpoint.Read(path));

        Assert.Contains("not found", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
