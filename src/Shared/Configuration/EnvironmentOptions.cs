using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace DeepGen.Distributed.Configuration;

/// <summary>
/// Binds command-line options to environment variables, so that a container sets with
/// <c>DEEPGEN_X</c> what a shell passes as <c>--x</c>. A value given on the command line wins over
/// the variable, and the variable wins over the built-in default.
/// </summary>
public static class EnvironmentOptions
{
    /// <summary>Prefix of every variable that an option reads.</summary>
    public const string Prefix = "DEEPGEN_";

    /// <summary>Returns the variable that <paramref name="option"/> reads: <c>--data-plane-port</c> reads <c>DEEPGEN_DATA_PLANE_PORT</c>.</summary>
    public static string VariableName(Option option) =>
        Prefix + option.Name.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    /// <summary>
    /// Makes the option's default the value of its environment variable, or <paramref name="fallback"/>
    /// when the variable is unset or empty, and appends "Environment: DEEPGEN_X." to its help text.
    /// A value that does not parse as <typeparamref name="T"/> is a parse error that names the variable.
    /// </summary>
    /// <typeparam name="T"><see cref="string"/>, <see cref="int"/>, <see cref="double"/> or <see cref="bool"/> (true, false, 1 or 0).</typeparam>
    /// <returns><paramref name="option"/>, for use in an initializer.</returns>
    public static Option<T> FromEnvironment<T>(this Option<T> option, T fallback)
    {
        var variable = VariableName(option);
        option.Description = $"{option.Description} Environment: {variable}.";
        option.DefaultValueFactory = result => Read(variable, fallback, result);
        return option;
    }

    private static T Read<T>(string variable, T fallback, ArgumentResult result)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        if (TryParse(text, out T value))
        {
            return value;
        }

        result.AddError($"{variable} '{text}' is invalid; it must be {Expected<T>()}. Fix or unset the variable.");
        return fallback;
    }

    private static bool TryParse<T>(string text, out T value)
    {
        object? parsed = typeof(T) switch
        {
            var t when t == typeof(string) => text,
            var t when t == typeof(int) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : null,
            var t when t == typeof(double) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null,
            var t when t == typeof(bool) => text.ToLowerInvariant() switch { "true" or "1" => true, "false" or "0" => false, _ => null },
            _ => throw new NotSupportedException($"Options of type {typeof(T).Name} cannot be read from the environment."),
        };
        value = parsed is T typed ? typed : default!;
        return parsed is not null;
    }

    private static string Expected<T>() =>
        typeof(T) == typeof(int) ? "an integer"
        : typeof(T) == typeof(double) ? "a number"
        : "true, false, 1 or 0";
}
