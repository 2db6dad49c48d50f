using System.Diagnostics;
using System.Globalization;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Cli;

/// <summary>Prints a run's progress to a text writer: a line every few seconds with the loss, throughput and ETA.</summary>
public sealed class ConsoleProgress(TextWriter output, TimeSpan interval) : IRunObserver
{
    private readonly Stopwatch _clock = new();
    private TimeSpan? _lastPrint;
    private long _totalSteps;
    private IReadOnlyList<string> _terms = [];
    private int _stepsPerEpoch;
    private int _epochs;
    private long _stepsAtStart = -1;
    private TimeSpan _timeAtStart;

    public void RunStarted(string runId, TrainingConfig config, int stepsPerEpoch)
    {
        _stepsPerEpoch = stepsPerEpoch;
        _terms = config.Family.StepTerms;
        _epochs = config.Epochs;
        _totalSteps = (long)stepsPerEpoch * config.Epochs;
        Write($"run {runId}: {config.Model} on {Count(config.Workers, "worker")} × batch {config.BatchSizePerWorker}, {Count(config.Epochs, "epoch")} of {Count(stepsPerEpoch, "step")}");
    }

    public void StepCompleted(StepCompleted report, double samplesPerSecond)
    {
        if (!_clock.IsRunning)
        {
            _clock.Start();
        }

        if (_stepsAtStart < 0)
        {
            _stepsAtStart = report.Step;
            _timeAtStart = _clock.Elapsed;
        }

        var now = _clock.Elapsed;
        var endOfEpoch = report.Step % _stepsPerEpoch == 0;
        if (_lastPrint is { } last && now - last < interval && !endOfEpoch)
        {
            return;
        }

        _lastPrint = now;
        var stepsDone = report.Step - _stepsAtStart;
        var elapsed = now - _timeAtStart;
        var eta = stepsDone > 0 ? FormatDuration(TimeSpan.FromSeconds(elapsed.TotalSeconds / stepsDone * (_totalSteps - report.Step))) : "--";
        var stepInEpoch = (report.Step - 1) % _stepsPerEpoch + 1;
        Write(string.Create(CultureInfo.InvariantCulture,
            $"epoch {report.Epoch}/{_epochs} step {stepInEpoch}/{_stepsPerEpoch}  loss {report.Loss:F4} ({Terms(_terms, report.Terms)})  {samplesPerSecond:N0} samples/s  ETA {eta}"));
    }

    public void EpochEvaluated(EpochEvaluation evaluation) =>
        Write(evaluation.EpochEnd
            ? $"epoch {evaluation.Epoch}: {Terms(evaluation.Names, evaluation.Values)}"
            : $"step {evaluation.Step}: {Terms(evaluation.Names, evaluation.Values)}");

    /// <summary>Formats "name value" pairs, four significant decimals for values below 10.</summary>
    public static string Terms(IReadOnlyList<string> names, IReadOnlyList<double> values) =>
        string.Join(", ", names.Zip(values, (name, value) => string.Create(CultureInfo.InvariantCulture, $"{name} {(Math.Abs(value) < 10 ? value.ToString("F4", CultureInfo.InvariantCulture) : value.ToString("F2", CultureInfo.InvariantCulture))}")));

    public void Log(string message) => Write(message);

    private static string Count(long count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalHours}:{duration.Minutes:00}:{duration.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.Minutes}:{duration.Seconds:00}");

    private void Write(string line)
    {
        lock (output)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
