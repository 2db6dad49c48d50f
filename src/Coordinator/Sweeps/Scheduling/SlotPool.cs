namespace DeepGen.Distributed.Coordinator.Sweeps.Scheduling;

/// <summary>
/// Worker slots of a sweep: which are free, which a trial holds, and which were lost. Slots are
/// numbered from 0; a lost slot never comes back.
/// </summary>
public sealed class SlotPool
{
    private readonly SortedSet<int> _free;
    private readonly Dictionary<int, string> _held = [];

    public SlotPool(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _free = [.. Enumerable.Range(0, capacity)];
        Capacity = capacity;
    }

    /// <summary>Slots not lost: free plus held.</summary>
    public int Capacity { get; private set; }

    public int FreeCount => _free.Count;

    /// <summary>Gives <paramref name="count"/> free slots (lowest numbers first) to <paramref name="trialId"/>, or null when too few are free.</summary>
    public IReadOnlyList<int>? TryTake(string trialId, int count)
    {
        if (count > _free.Count)
        {
            return null;
        }

        var slots = _free.Take(count).ToList();
        foreach (var slot in slots)
        {
            _free.Remove(slot);
            _held[slot] = trialId;
        }

        return slots;
    }

    /// <summary>Frees every slot that <paramref name="trialId"/> holds.</summary>
    public void Release(string trialId)
    {
        foreach (var slot in _held.Where(h => h.Value == trialId).Select(h => h.Key).ToList())
        {
            _held.Remove(slot);
            _free.Add(slot);
        }
    }

    /// <summary>Removes a lost slot for good and returns the trial that held it, or null.</summary>
    public string? Remove(int slot)
    {
        if (_free.Remove(slot))
        {
            Capacity--;
            return null;
        }

        if (_held.Remove(slot, out var trialId))
        {
            Capacity--;
            return trialId;
        }

        return null;
    }
}
