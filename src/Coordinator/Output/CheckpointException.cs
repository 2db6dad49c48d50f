namespace DeepGen.Distributed.Coordinator.Output;

/// <summary>
/// Error raised when a checkpoint file is missing, truncated, corrupt or in a format this build cannot read.
/// The message names the file, the problem and what to do.
/// </summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException()
    {
    }

    public CheckpointException(string message)
        : base(message)
    {
    }

    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="path"/> with the message "Checkpoint PATH: PROBLEM. FIX".</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="problem">What is wrong, such as "corrupt: SHA-256 mismatch".</param>
    /// <param name="fix">What the user can do about it.</param>
    /// <param name="innerException">The error that revealed the problem, if any.</param>
    public CheckpointException(string path, string problem, string fix, Exception? innerException = null)
        : base($"Checkpoint {path}: {problem}. {fix}", innerException)
    {
        Path = path;
    }

    /// <summary>The checkpoint file, when the exception was raised for one.</summary>
    public string? Path { get; }
}
