namespace DeepGen.Distributed.Tests;

/// <summary>Loads pages in headless Chromium (Debian package chromium, which ./test.sh installs).</summary>
internal static class HeadlessChromium
{
    private const string Executable = "/usr/bin/chromium";

    /// <summary>
    /// Loads <paramref name="url"/>, lets its scripts run for <paramref name="virtualTimeMs"/> of
    /// virtual time (0 = until the load event only), and returns the serialised DOM.
    /// </summary>
    /// <param name="scratch">Folder for the browser profile.</param>
    public static string DumpDom(string url, string scratch, int virtualTimeMs = 3000)
    {
        string[] budget = virtualTimeMs > 0 ? [$"--virtual-time-budget={virtualTimeMs}"] : [];
        var (exitCode, output) = Run(scratch, [.. budget, "--dump-dom", url]);
        Assert.True(exitCode == 0, output);
        return output;
    }

    /// <summary>Loads <paramref name="url"/> and saves a PNG screenshot of the window to <paramref name="path"/> after the load event.</summary>
    public static void Screenshot(string url, string path, string scratch, int width = 1400, int height = 1500)
    {
        var (exitCode, output) = Run(scratch, [$"--window-size={width},{height}", "--hide-scrollbars", $"--screenshot={path}", url]);
        Assert.True(exitCode == 0, output);
        Assert.True(File.Exists(path), $"no screenshot at {path}:\n{output}");
    }

    private static (int ExitCode, string Output) Run(string scratch, IEnumerable<string> arguments)
    {
        Assert.True(File.Exists(Executable), "Chromium is missing: install the Debian package chromium (./test.sh does).");
        string[] common =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(scratch, "chromium-profile")}",
            "--allow-file-access-from-files",
        ];
        return ProcessRunner.Run(Executable, common.Concat(arguments), TimeSpan.FromMinutes(1));
    }
}
