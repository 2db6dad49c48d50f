using System.Text.RegularExpressions;
using DeepGen.Distributed.Cluster;

namespace DeepGen.Distributed.Tests.Deploy;

/// <summary>The <c>--help</c> output of both programs, the reference that deployment files are checked against.</summary>
internal sealed class ProgramHelp
{
    private static readonly Lazy<ProgramHelp> Built = new(() => new ProgramHelp(
        RunHelp(ProcessRunner.Program("deepgen"), "train"),
        RunHelp(ProcessRunner.Program("deepgen-worker"))));

    private readonly string _coordinator;
    private readonly string _worker;

    private ProgramHelp(string coordinator, string worker)
    {
        _coordinator = coordinator;
        _worker = worker;
    }

    /// <summary>Help of the programs next to the test assembly, run once per test process.</summary>
    public static ProgramHelp Current => Built.Value;

    /// <summary>Returns the command line that a role runs, for messages.</summary>
    public static string ProgramOf(string role) => role == ClusterRoles.Coordinator ? "deepgen train" : "deepgen-worker";

    /// <summary>Returns whether the role's program reads <paramref name="variable"/>, which its help lists as "Environment: NAME.".</summary>
    public bool ReadsVariable(string role, string variable) =>
        For(role).Contains($"Environment: {variable}.", StringComparison.Ordinal);

    /// <summary>Returns whether the role's program has the option <paramref name="option"/>, such as <c>--epochs</c>.</summary>
    public bool HasOption(string role, string option) =>
        Regex.IsMatch(For(role), $@"^\s+(-\S+, )*{Regex.Escape(option)}(\s|$)", RegexOptions.Multiline);

    private string For(string role) => role switch
    {
        ClusterRoles.Coordinator => _coordinator,
        ClusterRoles.Worker => _worker,
        _ => "",
    };

    private static string RunHelp(string program, params string[] command)
    {
        var (exitCode, output) = ProcessRunner.Run("dotnet", [program, .. command, "--help"], TimeSpan.FromMinutes(1));
        return exitCode == 0 ? output : throw new InvalidOperationException($"{program} --help failed with exit code {exitCode}:\n{output}");
    }
}
