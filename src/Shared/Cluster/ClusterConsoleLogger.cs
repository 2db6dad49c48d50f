using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace DeepGen.Distributed.Cluster;

/// <summary>
/// Akka logger that writes to standard error, like Akka's default logger, but drops the
/// association-lost and flush warnings that Akka.Remote logs for every peer once this node's
/// coordinated shutdown has started. At that point peers leave on purpose, and the messages would bury the
/// run's result. The same messages during a run are kept: there they mean a node was lost.
/// </summary>
public sealed class ClusterConsoleLogger : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent logEvent when !IsShutdownNoise(logEvent, Context.System):
                Console.Error.WriteLine(Format(logEvent));
                return true;
            case LogEvent:
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Formats one line: level, time, source and message, with the cause's type and message but
    /// without its stack trace unless the debug level is on, so that an expected failure (a lost
    /// worker) reads as one line.
    /// </summary>
    private static string Format(LogEvent logEvent)
    {
        var line = $"[{logEvent.LogLevel().ToString().Replace("Level", "", StringComparison.Ordinal).ToUpperInvariant()}][{logEvent.Timestamp:HH:mm:ss.fff}][{logEvent.LogSource}] {logEvent.Message}";
        if (logEvent.Cause is null)
        {
            return line;
        }

        return Context.System.Log.IsDebugEnabled
            ? $"{line}{Environment.NewLine}{logEvent.Cause}"
            : $"{line} ({logEvent.Cause.GetType().Name}: {logEvent.Cause.Message})";
    }

    private static bool IsShutdownNoise(LogEvent logEvent, ActorSystem system)
    {
        if (logEvent.LogLevel() < LogLevel.WarningLevel || CoordinatedShutdown.Get(system).ShutdownReason is null)
        {
            return false;
        }

        var text = logEvent.Message?.ToString() ?? "";
        return logEvent.LogSource.Contains("endpointManager", StringComparison.Ordinal)
            || logEvent.Cause?.GetType().Name == "EndpointDisassociatedException"
            || text.Contains("Disassociated", StringComparison.Ordinal)
            || text.Contains("left the cluster", StringComparison.Ordinal)
            || text.Contains("flushing might not have been successful", StringComparison.Ordinal);
    }
}
