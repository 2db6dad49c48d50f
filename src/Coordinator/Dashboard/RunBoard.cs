namespace DeepGen.Distributed.Coordinator.Dashboard;

/// <summary>The runs this coordinator process has started, newest first, for the run page. Thread-safe.</summary>
public sealed class RunBoard
{
    private readonly Lock _lock = new();
    private readonly List<RunRecord> _runs = [];

    /// <summary>Adds a run that writes to <paramref name="directory"/>.</summary>
    public RunRecord Open(string directory)
    {
        var record = new RunRecord(directory);
        lock (_lock)
        {
            _runs.Insert(0, record);
        }

        return record;
    }

    /// <summary>Runs that the coordinator has accepted (they have an id), newest first.</summary>
    public IReadOnlyList<RunRecord> Runs()
    {
        lock (_lock)
        {
            return _runs.Where(r => r.Id is not null).ToList();
        }
    }

    public RunRecord? Find(string runId)
    {
        lock (_lock)
        {
            return _runs.FirstOrDefault(r => r.Id == runId);
        }
    }
}
