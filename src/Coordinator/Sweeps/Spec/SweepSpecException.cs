namespace DeepGen.Distributed.Coordinator.Sweeps.Spec;

/// <summary>One problem in a sweep spec file.</summary>
/// <param name="Line">Line in the file, from 1.</param>
public sealed record SpecError(int Line, string Message)
{
    /// <summary>Formats the error as <c>FILE:LINE: message</c>, the form compilers use.</summary>
    public string Format(string file) => $"{file}:{Line}: {Message}";
}

/// <summary>A sweep spec is invalid; <see cref="Errors"/> lists every problem found, in file order.</summary>
public sealed class SweepSpecException : Exception
{
    public SweepSpecException(IReadOnlyList<SpecError> errors)
        : base(string.Join(Environment.NewLine, errors.Select(e => $"line {e.Line}: {e.Message}")))
    {
        Errors = errors;
    }

    public SweepSpecException()
        : this([])
    {
    }

    public SweepSpecException(string message)
        : this([new SpecError(1, message)])
    {
    }

    public SweepSpecException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new SpecError(1, message)];
    }

    public IReadOnlyList<SpecError> Errors { get; }
}
