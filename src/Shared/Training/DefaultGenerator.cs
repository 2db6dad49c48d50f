using TorchSharp;

namespace DeepGen.Distributed.Training;

/// <summary>
/// Serialises every use of libtorch's default random generator, which is process-wide: a module's
/// constructor draws its initial parameters from it. Without the lock, a thread that builds a model
/// between another thread's <c>torch.manual_seed</c> and its model construction moves the generator,
/// and the seeded initial weights depend on thread timing. That happens when several runs share a
/// process, such as the trials of a sweep.
/// </summary>
/// <remarks>
/// NOTE: only code that goes through this class is serialised. Model constructions elsewhere (tests,
/// the single-threaded command-line tools) still draw from the default generator unguarded.
/// </remarks>
public static class DefaultGenerator
{
    private static readonly Lock Gate = new();

    /// <summary>Seeds the default generator with <paramref name="seed"/> and runs <paramref name="create"/>, both under the lock.</summary>
    public static T Seeded<T>(long seed, Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        lock (Gate)
        {
            torch.manual_seed(seed);
            return create();
        }
    }

    /// <summary>
    /// Runs <paramref name="create"/> under the lock without seeding: for models whose random initial
    /// parameters are replaced by loaded weights, but whose construction still draws from the generator.
    /// </summary>
    public static T Unseeded<T>(Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        lock (Gate)
        {
            return create();
        }
    }
}
