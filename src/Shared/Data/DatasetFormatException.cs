namespace DeepGen.Distributed.Data;

/// <summary>
/// Error raised when a dataset file is missing, truncated or not in the expected IDX layout.
/// The message starts with the file path and says what is wrong and what to do.
/// </summary>
public sealed class DatasetFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>; the message is prefixed with the path.</summary>
    /// <param name="path">File or directory the problem was found in.</param>
    /// <param name="message">What is wrong and what to do about it.</param>
    public DatasetFormatException(string path, string message)
        : base($"{path}: {message}")
    {
        Path = path;
    }

    /// <summary>File or directory the problem was found in.</summary>
    public string Path { get; }
}
