using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Training;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;

namespace DeepGen.Distributed.Coordinator.Dashboard;

/// <summary>
/// The run page's record of one run. Written from the coordinator's thread through
/// <see cref="Monitoring.RunMonitor"/> and read by HTTP requests, so every member takes the lock.
/// </summary>
public sealed class RunRecord
{
    private const int MessageLimit = 50;

    private readonly Lock _lock = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<StepPoint> _steps = [];
    private readonly Dictionary<long, double?[]> _rankSeconds = [];
    private readonly List<EvaluationPoint> _evaluations = [];
    private readonly List<RankedWorker> _workers = [];
    private readonly Dictionary<int, (long Step, double Seconds)> _latestByRank = [];
    private readonly List<StragglerNotice> _stragglers = [];
    private readonly Queue<string> _messages = new();
    private HashSet<int> _currentStragglers = [];
    private string? _id;
    private TrainingConfig? _config;
    private int _stepsPerEpoch;
    private string _status = "running";
    private string? _reason;
    private string? _lastCheckpoint;

    public RunRecord(string directory)
    {
        Directory = directory;
        StartedAt = DateTime.UtcNow;
    }

    /// <summary>The run folder, which contains the images and CAM reports the page shows.</summary>
    public string Directory { get; }

    public DateTime StartedAt { get; }

    /// <summary>The run id, or null until the coordinator has accepted the run.</summary>
    public string? Id
    {
        get
        {
            lock (_lock)
            {
                return _id;
            }
        }
    }

    public void Started(string runId, TrainingConfig config, int stepsPerEpoch)
    {
        lock (_lock)
        {
            _id = runId;
            _config = config;
            _stepsPerEpoch = stepsPerEpoch;
        }
    }

    public void RanksAssigned(IReadOnlyList<RankedWorker> workers)
    {
        lock (_lock)
        {
            _workers.Clear();
            _workers.AddRange(workers);
        }
    }

    public void RankStepCompleted(StepCompleted report)
    {
        lock (_lock)
        {
            _latestByRank[report.Rank] = (report.Step, report.StepSeconds);
            var worldSize = Math.Max(_workers.Count, report.Rank + 1);
            if (!_rankSeconds.TryGetValue(report.Step, out var seconds) || seconds.Length < worldSize)
            {
                var grown = new double?[worldSize];
                seconds?.CopyTo(grown, 0);
                seconds = grown;
                _rankSeconds[report.Step] = seconds;
            }

            seconds[report.Rank] = report.StepSeconds;
        }
    }

    public void StepCompleted(StepCompleted report, double samplesPerSecond)
    {
        lock (_lock)
        {
            _steps.Add(new StepPoint(report.Step, report.Epoch, _clock.Elapsed.TotalSeconds, report.Loss, report.Terms, samplesPerSecond, report.StepSeconds, report.PhaseSeconds, []));
        }
    }

    public void Evaluated(EpochEvaluation evaluation)
    {
        lock (_lock)
        {
            _evaluations.Add(new EvaluationPoint(evaluation.Epoch, evaluation.Step, evaluation.EpochEnd, evaluation.Values));
        }
    }

    public void CheckpointWritten(string path)
    {
        lock (_lock)
        {
            _lastCheckpoint = path;
        }
    }

    /// <summary>Records the ranks that are stragglers after a step, and the warnings raised at it.</summary>
    public void StragglersChecked(StragglerDecision decision)
    {
        lock (_lock)
        {
            _currentStragglers = [.. decision.Stragglers];
            foreach (var warning in decision.NewWarnings)
            {
                var workerId = WorkerId(warning.Rank);
                _stragglers.Add(new StragglerNotice(warning.Rank, workerId, warning.Step, warning.StepSeconds, warning.MedianSeconds, StragglerMessage(warning, workerId)));
            }
        }
    }

    public void Log(string message)
    {
        lock (_lock)
        {
            _messages.Enqueue(message);
            while (_messages.Count > MessageLimit)
            {
                _messages.Dequeue();
            }
        }
    }

    /// <summary>Marks the run as ended: <paramref name="status"/> is completed or failed.</summary>
    public void Finished(string status, string? reason)
    {
        lock (_lock)
        {
            _status = status;
            _reason = reason;
            _currentStragglers.Clear();
        }
    }

    /// <summary>Returns the worker id of <paramref name="rank"/>, or <c>rank N</c> before ranks are known.</summary>
    public string WorkerId(int rank)
    {
        lock (_lock)
        {
            return rank < _workers.Count ? _workers[rank].WorkerId : $"rank {rank}";
        }
    }

    /// <summary>The warning text for the log and the page.</summary>
    public static string StragglerMessage(StragglerWarning warning, string workerId) =>
        string.Create(CultureInfo.InvariantCulture,
            $"rank {warning.Rank} ({workerId}) is a straggler: {warning.StepSeconds * 1000:F1} ms at step {warning.Step}, {warning.Ratio:F1}× the median of {warning.MedianSeconds * 1000:F1} ms, slow for {warning.ConsecutiveSteps} steps in a row");

    public RunSummary Summary()
    {
        lock (_lock)
        {
            return SummaryLocked();
        }
    }

    /// <summary>Returns the run's state with the steps after <paramref name="afterStep"/>.</summary>
    public RunDetails Details(long afterStep)
    {
        lock (_lock)
        {
            var family = _config?.Family;
            var worldSize = _workers.Count;
            var steps = _steps
                .Where(s => s.Step > afterStep)
                .Select(s => s with { RankSeconds = _rankSeconds.TryGetValue(s.Step, out var seconds) ? seconds : new double?[worldSize] })
                .ToList();
            var workers = _workers.Select(w =>
            {
                var latest = _latestByRank.TryGetValue(w.Rank, out var l) ? l : default;
                var state = _status != "running" ? _status : _currentStragglers.Contains(w.Rank) ? "straggler" : "training";
                return new WorkerRow(w.Rank, w.WorkerId, w.Host, state, latest.Step, latest == default ? null : latest.Seconds);
            }).ToList();

            return new RunDetails(
                SummaryLocked(),
                _reason,
                _config?.Epochs ?? 0,
                _stepsPerEpoch,
                worldSize,
                family?.StepTerms ?? [],
                family?.EvaluationMetrics ?? [],
                StepPhaseTimer.PhaseNames,
                steps,
                [.. _evaluations],
                workers,
                [.. _stragglers],
                LatestImages(),
                LatestCamReport(),
                _lastCheckpoint is null ? null : Path.GetRelativePath(Directory, _lastCheckpoint),
                [.. _messages]);
        }
    }

    private RunSummary SummaryLocked() => new(
        _id ?? "",
        _config?.Model ?? "",
        _status,
        StartedAt.ToString("O", CultureInfo.InvariantCulture),
        _steps.Count > 0 ? _steps[^1].Step : 0,
        (long)_stepsPerEpoch * (_config?.Epochs ?? 0),
        _steps.Count > 0 ? _steps[^1].Loss : null,
        Directory);

    /// <summary>The newest image of each kind: <c>images/samples-epoch-003.png</c> is kind <c>samples</c>.</summary>
    private List<RunFile> LatestImages()
    {
        var folder = Path.Combine(Directory, "images");
        if (!System.IO.Directory.Exists(folder))
        {
            return [];
        }

        return System.IO.Directory.EnumerateFiles(folder, "*.png")
            .Select(Path.GetFileName)
            .OfType<string>()
            .GroupBy(name => name.Split("-epoch-")[0], StringComparer.Ordinal)
            .Select(kind => kind.Max(StringComparer.Ordinal)!)
            .Order(StringComparer.Ordinal)
            .Select(name => new RunFile(name.Split("-epoch-")[0], name, FileUrl($"images/{name}")))
            .ToList();
    }

    /// <summary>The last entry of <c>cam/index.json</c>, which the CAM reporter rewrites after each report.</summary>
    private RunFile? LatestCamReport()
    {
        var index = Path.Combine(Directory, "cam", "index.json");
        if (!File.Exists(index))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(index));
            var reports = document.RootElement.EnumerateArray().ToList();
            if (reports.Count == 0 || reports[^1].GetProperty("page").GetString() is not { } page)
            {
                return null;
            }

            var relative = "cam/" + page.Replace('\\', '/');
            return new RunFile("cam", relative, FileUrl(relative));
        }
        catch (Exception error) when (error is IOException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            // The reporter replaces the index atomically, so this is a foreign file or a changed
            // format. The page then shows no report rather than failing.
            return null;
        }
    }

    private string FileUrl(string relativePath) => $"/runs/{Uri.EscapeDataString(_id ?? "")}/files/{relativePath}";
}
