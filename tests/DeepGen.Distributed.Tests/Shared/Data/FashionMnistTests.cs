using DeepGen.Distributed.Data;

namespace DeepGen.Distributed.Tests.Data;

public sealed class FashionMnistTests : IDisposable
{
    private readonly TemporaryDirectory folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData(DatasetSplit.Train, 60_000)]
    [InlineData(DatasetSplit.Test, 10_000)]
    public void Installed_dataset_loads(DatasetSplit split, int expectedCount)
    {
        var dataset = FashionMnist.Load(FashionMnist.DefaultDirectory, split);

        Assert.Equal(expectedCount, dataset.Count);
        Assert.Equal(28, dataset.Rows);
        Assert.Equal(28, dataset.Columns);
        Assert.Equal(expectedCount * 28 * 28, dataset.Pixels.Length);
        Assert.All(dataset.Labels, label => Assert.InRange(label, (byte)0, (byte)9));
        Assert.Equal(10, dataset.Labels.Distinct().Count());
        Assert.Equal($"fashion-mnist/{split.ToString().ToLowerInvariant()}", dataset.Name);
    }

    [Fact]
    public void Missing_folder_is_rejected_with_install_hint()
    {
        string missing = folder.File("no-such-folder");

        var error = Assert.Throws<DatasetFormatException>(() => FashionMnist.Load(missing, DatasetSplit.Train));

        Assert.Equal(missing, error.Path);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("sudo apt-get install dataset-fashion-mnist", error.Message, StringComparison.Ordinal);
        Assert.Contains("--data DIR", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_labels_file_is_rejected_with_install_hint()
    {
        IdxReader.WriteImages(folder.File("t10k-images-idx3-ubyte.gz"), new IdxImages(1, 1, 1, [5]), gzip: true);

        var error = Assert.Throws<DatasetFormatException>(() => FashionMnist.Load(folder.Path, DatasetSplit.Test));

        Assert.Contains(folder.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("t10k-labels-idx1-ubyte.gz", error.Message, StringComparison.Ordinal);
        Assert.Contains("sudo apt-get install dataset-fashion-mnist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_files_are_accepted()
    {
        IdxReader.WriteImages(folder.File("train-images-idx3-ubyte"), new IdxImages(2, 1, 1, [5, 6]), gzip: false);
        IdxReader.WriteLabels(folder.File("train-labels-idx1-ubyte"), [1, 2], gzip: false);

        var dataset = FashionMnist.Load(folder.Path, DatasetSplit.Train);

        Assert.Equal(2, dataset.Count);
        Assert.Equal(new byte[] { 1, 2 }, dataset.Labels);
    }

    [Fact]
    public void Gzip_file_is_preferred_over_plain()
    {
        IdxReader.WriteImages(folder.File("train-images-idx3-ubyte.gz"), new IdxImages(2, 1, 1, [5, 6]), gzip: true);
        IdxReader.WriteImages(folder.File("train-images-idx3-ubyte"), new IdxImages(3, 1, 1, [7, 8, 9]), gzip: false);
        IdxReader.WriteLabels(folder.File("train-labels-idx1-ubyte.gz"), [1, 2], gzip: true);

        var dataset = FashionMnist.Load(folder.Path, DatasetSplit.Train);

        Assert.Equal(new byte[] { 5, 6 }, dataset.Pixels);
    }

    [Fact]
    public void Second_load_returns_cached_instance()
    {
        IdxReader.WriteImages(folder.File("t10k-images-idx3-ubyte.gz"), new IdxImages(2, 1, 1, [5, 6]), gzip: true);
        IdxReader.WriteLabels(folder.File("t10k-labels-idx1-ubyte.gz"), [1, 2], gzip: true);

        var first = FashionMnist.Load(folder.Path, DatasetSplit.Test);
        var second = FashionMnist.Load(folder.Path + Path.DirectorySeparatorChar, DatasetSplit.Test);

        Assert.Same(first, second);
    }

    [Fact]
    public void Changed_file_is_read_again()
    {
        var images = folder.File("t10k-images-idx3-ubyte.gz");
        var labels = folder.File("t10k-labels-idx1-ubyte.gz");
        IdxReader.WriteImages(images, new IdxImages(2, 1, 1, [5, 6]), gzip: true);
        IdxReader.WriteLabels(labels, [1, 2], gzip: true);
        var first = FashionMnist.Load(folder.Path, DatasetSplit.Test);

        IdxReader.WriteImages(images, new IdxImages(3, 1, 1, [7, 8, 9]), gzip: true);
        IdxReader.WriteLabels(labels, [3, 4, 5], gzip: true);
        var second = FashionMnist.Load(folder.Path, DatasetSplit.Test);

        Assert.NotSame(first, second);
        Assert.Equal(new byte[] { 5, 6 }, first.Pixels);
        Assert.Equal(new byte[] { 7, 8, 9 }, second.Pixels);
        Assert.Equal(new byte[] { 3, 4, 5 }, second.Labels);
    }

    [Fact]
    public void Same_length_rewrite_is_read_again()
    {
        var images = folder.File("t10k-images-idx3-ubyte");
        var labels = folder.File("t10k-labels-idx1-ubyte");
        IdxReader.WriteImages(images, new IdxImages(2, 1, 1, [5, 6]), gzip: false);
        IdxReader.WriteLabels(labels, [1, 2], gzip: false);
        var first = FashionMnist.Load(folder.Path, DatasetSplit.Test);

        IdxReader.WriteImages(images, new IdxImages(2, 1, 1, [8, 9]), gzip: false);
        File.SetLastWriteTimeUtc(images, File.GetLastWriteTimeUtc(images).AddSeconds(1));
        var second = FashionMnist.Load(folder.Path, DatasetSplit.Test);

        Assert.NotSame(first, second);
        Assert.Equal(new byte[] { 8, 9 }, second.Pixels);
    }
}
