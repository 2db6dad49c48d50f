namespace DeepGen.Distributed.Data;

/// <summary>
/// Locates and loads Fashion-MNIST (or MNIST, which uses the same file names) from a folder holding the four
/// IDX files, such as <c>train-images-idx3-ubyte.gz</c>, each gzip-compressed or plain.
/// </summary>
public static class FashionMnist
{
    /// <summary>Folder that the Debian/Ubuntu package dataset-fashion-mnist installs the IDX files into.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    private const string InstallHint =
        "install it with 'sudo apt-get install dataset-fashion-mnist' (Debian/Ubuntu) or pass --data DIR with a " +
        "folder that holds the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, " +
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)";

    /// <summary>Loads one split from <paramref name="directory"/>, preferring the .gz file when both forms exist.</summary>
    /// <returns>A dataset named after the folder and split, such as "fashion-mnist/train".</returns>
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
        return ImageDataset.Load(imagesPath, labelsPath, name);
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
