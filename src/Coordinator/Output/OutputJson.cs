using System.Text.Json;

namespace DeepGen.Distributed.Coordinator.Output;

/// <summary>JSON settings shared by the run folder's <c>config.json</c> and the checkpoint header.</summary>
internal static class OutputJson
{
    /// <summary>camelCase property names, indented, for files that people read.</summary>
    public static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>camelCase property names on one line, for headers embedded in binary files.</summary>
    public static readonly JsonSerializerOptions Compact = new(JsonSerializerDefaults.Web);
}
