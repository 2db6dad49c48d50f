using System.Collections.Concurrent;

namespace DeepGen.Distributed.Data;

/// <summary>
/// Locates and loads Fashion-MNIST (or MNIST, which uses the same file names) from a folder holding the four
/// IDX files, such as <c>train-images-idx3-ubyte.gz</c>, each gzip-compressed or plain.
/// </summary>
/// <remarks>
/// Loaded splits are cached for the life of the process, so the coordinator and the workers of every
/// in-process trial share one copy instead of decompressing the files again. The cache key is the full
/// path of both files, their lengths and their last-write times: a file replaced with one of another
/// length or time is read again. Callers must not write to the arrays of a returned dataset.
/// </remarks>
public static class FashionMnist
{
    /// <summary>Folder that the Debian/Ubuntu package dataset-fashion-mnist installs the IDX files into.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    private const string InstallHint =
        "install it with 'sudo apt-get install dataset-fashion-mnist' (Debian/Ubuntu) or pass --data DIR with a " +
        "folder that holds the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, " +
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)";

    private static readonly ConcurrentDictionary<string, CacheEntry> Cache = new(StringComparer.Ordinal);

    /// <summary>
    /// Loads one split from <paramref name="directory"/>, preferring the .gz file when both forms exist, or
    /// returns the instance cached by an earlier call when neither file has changed since.
    /// </summary>
    /// <returns>A dataset named after the folder and split, such as "fashion-mnist/train"; shared, so read-only.</returns>
    /// <exception cref="DatasetFormatException">
    /// The folder or a file is missing, or a file is not valid IDX; the message names the path.
    /// </exception>
    public static ImageDataset Load(string directory, DatasetSplit split)
    {
        ArgumentNullException.ThrowIfNull(directory);

        if (!Directory.Exists(directory))
        {
            throw new DatasetFormatException(directory, $"dataset folder not found; {InstallHint}");
        }

        string prefix = split switch
        {
            DatasetSplit.Train => "train",
            DatasetSplit.Test => "t10k",
            _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Expected Train or Test."),
        };

        string imagesPath = FindFile(directory, $"{prefix}-images-idx3-ubyte");
        string labelsPath = FindFile(directory, $"{prefix}-labels-idx1-ubyte");

        string folderName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        string name = $"{folderName}/{split.ToString().ToLowerInvariant()}";
        var images = FileStamp.Of(imagesPath);
        var labels = FileStamp.Of(labelsPath);
        var key = $"{split}|{images.Path}|{labels.Path}";

        // A cached entry is kept only while both files still have the stamps it was read with.
        var entry = Cache.AddOrUpdate(
            key,
            _ => new CacheEntry(images, labels, name),
            (_, cached) => cached.Images == images && cached.Labels == labels ? cached : new CacheEntry(images, labels, name));
        try
        {
            return entry.Dataset.Value;
        }
        catch
        {
            // Lazy keeps the exception; drop the entry so that the next call reads the files again.
            Cache.TryRemove(new KeyValuePair<string, CacheEntry>(key, entry));
            throw;
        }
    }

    /// <summary>Full path, length and last-write time (UTC) of a file.</summary>
    private sealed record FileStamp(string Path, long Length, DateTime LastWriteUtc)
    {
        public static FileStamp Of(string path)
        {
            var info = new FileInfo(path);
            return new FileStamp(info.FullName, info.Length, info.LastWriteTimeUtc);
        }
    }

    /// <summary>A split read at most once, by the first caller that needs it.</summary>
    private sealed class CacheEntry(FileStamp images, FileStamp labels, string name)
    {
        public FileStamp Images { get; } = images;

        public FileStamp Labels { get; } = labels;

        public Lazy<ImageDataset> Dataset { get; } = new(() => ImageDataset.Load(images.Path, labels.Path, name), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    private static string FindFile(string directory, string baseName)
    {
        string compressed = Path.Combine(directory, baseName + ".gz");
        if (File.Exists(compressed))
        {
            return compressed;
        }

        string plain = Path.Combine(directory, baseName);
        if (File.Exists(plain))
        {
            return plain;
        }

        throw new DatasetFormatException(directory, $"neither {baseName}.gz nor {baseName} found in the dataset folder; {InstallHint}");
    }
}
