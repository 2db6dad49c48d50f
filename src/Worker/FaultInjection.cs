using System.Globalization;

namespace DeepGen.Distributed.Worker;

/// <summary>
/// Recovery drills: the worker process sends itself SIGKILL (a crash) or SIGSTOP (a hang) just
/// before it trains step <see cref="Step"/>, so tests and operators can rehearse losing a worker
/// at an exact point of a run.
/// </summary>
/// <param name="Step">Global step before which the fault happens.</param>
/// <param name="Kind"><c>kill</c> or <c>stop</c>.</param>
public sealed record FaultInjection(long Step, string Kind)
{
    /// <summary>Accepted values of <see cref="Kind"/>.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["kill", "stop"];

    /// <summary>Triggers the fault when <paramref name="step"/> is <see cref="Step"/>; returns only if it does not, or after SIGCONT.</summary>
    public void BeforeStep(long step)
    {
        if (step != Step)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        Console.WriteLine($"fault injection: SIG{Kind.ToUpperInvariant()} before step {step} at unix time {now.ToString("F3", CultureInfo.InvariantCulture)}");
        Console.Out.Flush();
        if (Kind == "kill")
        {
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }
        else
        {
            // kill(1) from procps, because .NET has no API that sends SIGSTOP.
            using var stop = System.Diagnostics.Process.Start("kill", ["-STOP", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)]);
            stop.WaitForExit();
        }
    }
}
