using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepGen.Distributed.Coordinator.Sweeps.Spec;

namespace DeepGen.Distributed.Coordinator.Sweeps.Output;

/// <summary>
/// Sweep folder: <c>spec.yaml</c> (the spec as given), <c>state.json</c> (resume state),
/// <c>decisions.log</c> (every scheduling decision with its reason), <c>results.csv</c> and
/// <c>results.json</c> (the trial table) and one run folder per trial under <c>trials/</c>.
/// </summary>
/// <remarks>Not thread-safe: the scheduler actor is its only writer.</remarks>
public sealed class SweepStore
{
    public const string SpecFileName = "spec.yaml";
    public const string StateFileName = "state.json";
    public const string DecisionsFileName = "decisions.log";
    public const string ResultsCsvFileName = "results.csv";
    public const string ResultsJsonFileName = "results.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly TextWriter? _echo;

    /// <param name="echo">Also receives every decision line (the command line passes the console), or null.</param>
    public SweepStore(string directory, TextWriter? echo = null)
    {
        Directory = Path.GetFullPath(directory);
        _echo = echo;
    }

    public string Directory { get; }

    public string StatePath => Path.Combine(Directory, StateFileName);

    /// <summary>Creates the folder and copies the spec into it.</summary>
    /// <exception cref="InvalidOperationException">The folder already contains a sweep; resume it instead.</exception>
    public void Create(string specText)
    {
        if (File.Exists(StatePath))
        {
            throw new InvalidOperationException($"{Directory} already contains a sweep; continue it with 'deepgen sweep resume {Directory}' or choose another --output.");
        }

        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "trials"));
        WriteAtomically(Path.Combine(Directory, SpecFileName), specText);
    }

    public string ReadSpec() => File.ReadAllText(Path.Combine(Directory, SpecFileName));

    /// <summary>Reads <c>state.json</c>, or returns null when the sweep never saved one.</summary>
    /// <exception cref="JsonException">The file is corrupt.</exception>
    public SweepState? LoadState() => File.Exists(StatePath) ? JsonSerializer.Deserialize<SweepState>(File.ReadAllText(StatePath), Json) : null;

    /// <summary>Writes the state file and both result tables, each replaced atomically.</summary>
    public void Save(SweepState state, IReadOnlyList<long> rungs)
    {
        WriteAtomically(StatePath, JsonSerializer.Serialize(state, Json));
        WriteAtomically(Path.Combine(Directory, ResultsJsonFileName), JsonSerializer.Serialize(SweepResults.From(state, rungs), Json));
        WriteAtomically(Path.Combine(Directory, ResultsCsvFileName), SweepResults.Csv(state, rungs));
    }

    /// <summary>Appends a timestamped line to <c>decisions.log</c> and echoes it.</summary>
    public void Decide(string decision)
    {
        var line = $"{DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} {decision}";
        File.AppendAllText(Path.Combine(Directory, DecisionsFileName), line + "\n", Encoding.UTF8);
        _echo?.WriteLine(line);
    }

    /// <summary>Reads a sweep folder's results, or null when it has none yet.</summary>
    public static SweepResults? ReadResults(string directory)
    {
        var path = Path.Combine(directory, ResultsJsonFileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<SweepResults>(File.ReadAllText(path), Json) : null;
    }

    /// <summary>Parses the copied spec; a spec that was valid when the sweep began stays valid.</summary>
    public SweepSpec LoadSpec() => SweepSpecParser.Parse(ReadSpec());

    private static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text, new UTF8Encoding(false));
        File.Move(temporary, path, overwrite: true);
    }
}
