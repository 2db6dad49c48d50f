using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using DeepGen.Distributed.Configuration;

namespace DeepGen.Distributed.Coordinator.Output;

/// <summary>
/// Run folder of one training run: <c>config.json</c>, the per-step <c>metrics.csv</c>, the per-epoch
/// <c>evaluation.csv</c>, preview images under <c>images/</c> and checkpoints under <c>checkpoints/</c>.
/// </summary>
/// <remarks>All members are thread-safe. Numbers in the CSV files use the invariant culture and the
/// round-trip format, so parsing a value gives back the same double.</remarks>
public sealed class RunOutput : IDisposable
{
    /// <summary>Longest time that an appended metrics row stays in memory before it is flushed.</summary>
    public static readonly TimeSpan MetricsFlushInterval = TimeSpan.FromSeconds(2);

    private const string ConfigFileName = "config.json";
    private const string MetricsFileName = "metrics.csv";
    private const string EvaluationFileName = "evaluation.csv";

    private static readonly string[] MetricsLeadingColumns = ["step", "epoch", "loss"];
    private static readonly string[] MetricsTrailingColumns = ["samples_per_second", "step_seconds", "allreduce_seconds", "world_size", "global_batch", "unix_time"];
    private static readonly string[] EvaluationLeadingColumns = ["epoch", "step"];

    private readonly Lock gate = new();
    private readonly StreamWriter metrics;
    private readonly StreamWriter evaluation;
    private readonly Timer flushTimer;
    private readonly Stopwatch sinceMetricsFlush = Stopwatch.StartNew();
    private bool metricsPending;
    private ExceptionDispatchInfo? timerFlushError;
    private bool disposed;

    private RunOutput(string directory, StreamWriter metrics, StreamWriter evaluation)
    {
        Directory = directory;
        this.metrics = metrics;
        this.evaluation = evaluation;
        flushTimer = new Timer(_ => FlushMetricsIfDue(), null, MetricsFlushInterval, MetricsFlushInterval);
    }

    /// <summary>Full path of the run folder.</summary>
    public string Directory { get; }

    /// <summary>
    /// Creates the run folder (and its parents) when missing, starts <c>metrics.csv</c> and <c>evaluation.csv</c>
    /// with their headers, and writes <paramref name="config"/> to <c>config.json</c> (camelCase, indented).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The folder already contains a run: a <c>metrics.csv</c> with at least one step, or a checkpoint.
    /// A folder left by a run that failed before its first step is reused.
    /// </exception>
    public static RunOutput Create(string directory, TrainingConfig config)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(config);

        string fullPath = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(fullPath);

        StreamWriter? metrics = null;
        StreamWriter? evaluation = null;
        try
        {
            var metricsPath = Path.Combine(fullPath, MetricsFileName);
            var family = config.Family;
            var metricsHeader = string.Join(',', MetricsLeadingColumns.Concat(family.StepTerms).Concat(MetricsTrailingColumns));
            var evaluationHeader = string.Join(',', EvaluationLeadingColumns.Concat(family.EvaluationMetrics));
            metrics = CreateCsv(metricsPath, metricsHeader, fullPath, overwrite: HoldsNoSteps(metricsPath, fullPath));
            evaluation = CreateCsv(Path.Combine(fullPath, EvaluationFileName), evaluationHeader, fullPath, overwrite: true);

            byte[] json = JsonSerializer.SerializeToUtf8Bytes(config, OutputJson.Indented);
            WriteAtomically(Path.Combine(fullPath, ConfigFileName), json);

            return new RunOutput(fullPath, metrics, evaluation);
        }
        catch
        {
            metrics?.Dispose();
            evaluation?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the folder of an interrupted run to continue it after step <paramref name="step"/>: rows
    /// of <c>metrics.csv</c> and <c>evaluation.csv</c> after that step are removed (the resumed run
    /// trains those steps again) and new rows are appended.
    /// </summary>
    /// <exception cref="InvalidOperationException">The folder has no <c>metrics.csv</c> or <c>evaluation.csv</c> of a run.</exception>
    public static RunOutput Resume(string directory, long step)
    {
        string fullPath = Path.GetFullPath(directory);
        var metricsPath = Path.Combine(fullPath, MetricsFileName);
        var evaluationPath = Path.Combine(fullPath, EvaluationFileName);
        foreach (var path in new[] { metricsPath, evaluationPath })
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{fullPath} is not a run folder: {Path.GetFileName(path)} is missing. Pass the folder that a 'deepgen train' run wrote.");
            }
        }

        TruncateAfterStep(metricsPath, 0, step);
        TruncateAfterStep(evaluationPath, 1, step);
        return new RunOutput(fullPath, OpenForAppend(metricsPath), OpenForAppend(evaluationPath));
    }

    /// <summary>
    /// Appends one optimizer step to <c>metrics.csv</c>. The row reaches the file within
    /// <see cref="MetricsFlushInterval"/>, or at the latest on <see cref="Flush"/> or <see cref="Dispose"/>.
    /// </summary>
    /// <param name="step">Optimizer steps completed, counting this one.</param>
    /// <param name="epoch">Epoch the step belongs to.</param>
    /// <param name="loss">Training loss of the global batch.</param>
    /// <param name="terms">The model family's step terms, in header order.</param>
    /// <param name="samplesPerSecond">Global batch size divided by <paramref name="stepSeconds"/>.</param>
    /// <param name="stepSeconds">Wall-clock time of the whole step, in seconds.</param>
    /// <param name="allReduceSeconds">Time spent in the gradient all-reduce, in seconds.</param>
    /// <param name="worldSize">Ranks that took part in the step.</param>
    /// <param name="globalBatch">Images in the step over all ranks.</param>
    public void AppendStep(
        long step, int epoch, double loss, IReadOnlyList<double> terms,
        double samplesPerSecond, double stepSeconds, double allReduceSeconds, int worldSize = 1, int globalBatch = 0)
    {
        var unixTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        string row = string.Join(',',
            new[] { Format(step), Format(epoch), Format(loss) }
                .Concat(terms.Select(FormatDouble))
                .Concat([Format(samplesPerSecond), Format(stepSeconds), Format(allReduceSeconds), Format(worldSize), Format(globalBatch), unixTime.ToString("F3", CultureInfo.InvariantCulture)]));

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            metrics.WriteLine(row);
            metricsPending = true;
            if (sinceMetricsFlush.Elapsed >= MetricsFlushInterval)
            {
                FlushMetrics();
            }
        }
    }

    /// <summary>Appends one held-out evaluation to <c>evaluation.csv</c> and flushes it at once.</summary>
    /// <param name="epoch">Epochs completed when the weights were taken.</param>
    /// <param name="step">Optimizer steps completed when the weights were taken.</param>
    /// <param name="values">The model family's evaluation metrics, in header order.</param>
    public void AppendEvaluation(int epoch, long step, IReadOnlyList<double> values)
    {
        string row = string.Join(',', new[] { Format(epoch), Format(step) }.Concat(values.Select(FormatDouble)));

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            evaluation.WriteLine(row);
            evaluation.Flush();
        }
    }

    /// <summary>Returns <c>images/{kind}-epoch-{epoch:000}.png</c> inside the run folder, creating <c>images/</c>.</summary>
    /// <param name="kind">Image kind, such as "samples" or "reconstructions", which becomes part of the file name.</param>
    /// <param name="epoch">Epochs completed, at least 0.</param>
    public string ImagePath(string kind, int epoch)
    {
        RequireFileName(kind, nameof(kind));
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);

        string folder = Path.Combine(Directory, "images");
        System.IO.Directory.CreateDirectory(folder);
        return Path.Combine(folder, $"{kind}-epoch-{epoch.ToString("000", CultureInfo.InvariantCulture)}.png");
    }

    /// <summary>Writes a checkpoint to <c>checkpoints/{fileName}</c> inside the run folder with
    /// <see cref="Checkpoint.Write"/>, which replaces an existing file atomically.</summary>
    /// <param name="fileName">File name without folders, such as "epoch-003.ckpt".</param>
    /// <returns>Full path of the written checkpoint.</returns>
    public string WriteCheckpoint(string fileName, TrainingConfig config, int epoch, long step, ReadOnlySpan<byte> weights)
    {
        RequireFileName(fileName, nameof(fileName));
        ArgumentNullException.ThrowIfNull(config);

        string path = Path.Combine(Directory, "checkpoints", fileName);
        Checkpoint.Write(path, new CheckpointData(config, epoch, step, weights.ToArray()));
        return path;
    }

    /// <summary>
    /// Flushes the metrics rows, writes <paramref name="data"/> to <c>checkpoints/{fileName}</c> atomically, then deletes the
    /// oldest step and epoch checkpoints beyond the newest <paramref name="keep"/>; <c>final.ckpt</c> is never deleted.
    /// </summary>
    /// <returns>Full path of the written checkpoint.</returns>
    public string WriteCheckpoint(string fileName, CheckpointData data, int keep)
    {
        RequireFileName(fileName, nameof(fileName));

        // A resumed run continues after the checkpoint's step, so metrics.csv must hold every row up to it first.
        Flush();
        string path = Path.Combine(Directory, "checkpoints", fileName);
        Checkpoint.Write(path, data);
        foreach (var old in CheckpointCatalog.Rolling(Directory).Skip(keep))
        {
            File.Delete(old.Path);
        }

        return path;
    }

    /// <summary>Writes buffered metrics and evaluation rows to the files.</summary>
    public void Flush()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            FlushMetrics();
            evaluation.Flush();
        }
    }

    /// <summary>Flushes the buffered rows and closes the CSV files. Later calls do nothing.</summary>
    public void Dispose()
    {
        flushTimer.Dispose();
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            metrics.Dispose();
            evaluation.Dispose();
        }
    }

    private void FlushMetricsIfDue()
    {
        lock (gate)
        {
            if (disposed || !metricsPending || timerFlushError is not null)
            {
                return;
            }

            try
            {
                FlushMetrics();
            }
            catch (IOException error)
            {
                // An exception escaping a timer callback ends the process, so keep it for the next caller.
                timerFlushError = ExceptionDispatchInfo.Capture(error);
            }
        }
    }

    private void FlushMetrics()
    {
        timerFlushError?.Throw();
        metrics.Flush();
        metricsPending = false;
        sinceMetricsFlush.Restart();
    }

    /// <summary>True when <paramref name="metricsPath"/> exists with no row after its header and no checkpoint was written.</summary>
    private static bool HoldsNoSteps(string metricsPath, string runDirectory)
    {
        if (!File.Exists(metricsPath))
        {
            return false;
        }

        var checkpoints = Path.Combine(runDirectory, "checkpoints");
        if (System.IO.Directory.Exists(checkpoints) && System.IO.Directory.EnumerateFileSystemEntries(checkpoints).Any())
        {
            return false;
        }

        return File.ReadLines(metricsPath).Skip(1).All(string.IsNullOrWhiteSpace);
    }

    /// <summary>Rewrites <paramref name="path"/> (through a temporary file) without the rows whose step column is above <paramref name="step"/>.</summary>
    private static void TruncateAfterStep(string path, int stepColumn, long step)
    {
        var lines = File.ReadAllLines(path);
        var rowsToKeep = lines.Take(1).Concat(lines.Skip(1).Where(line =>
        {
            var fields = line.Split(',');
            return fields.Length > stepColumn && long.TryParse(fields[stepColumn], NumberStyles.Integer, CultureInfo.InvariantCulture, out var rowStep) && rowStep <= step;
        }));
        WriteAtomically(path, new UTF8Encoding(false).GetBytes(string.Join("\n", rowsToKeep) + "\n"));
    }

    private static StreamWriter OpenForAppend(string path) =>
        new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };

    private static StreamWriter CreateCsv(string path, string header, string runDirectory, bool overwrite = false)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, overwrite ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        }
        catch (IOException error) when (File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The folder {runDirectory} already contains a run, because {Path.GetFileName(path)} exists there. " +
                "Choose another --output folder, or delete the old run first.", error);
        }

        var writer = new StreamWriter(file, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };
        writer.WriteLine(header);
        writer.Flush();
        return writer;
    }

    private static void WriteAtomically(string path, byte[] content)
    {
        string temporaryPath = path + ".tmp";
        using (var file = new FileStream(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(content);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporaryPath, path, overwrite: true);
    }

    private static void RequireFileName(string name, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameterName);
        if (name != Path.GetFileName(name) || name is "." or ".." || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new ArgumentException(
                $"'{name}' is not a plain file name. Pass a name without folders or path separators.", parameterName);
        }
    }

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string FormatDouble(double value) => Format(value);
}
