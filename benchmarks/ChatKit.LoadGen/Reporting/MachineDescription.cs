using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ChatKit.LoadGen.Reporting;

internal static class MachineDescription
{
    /// <summary>Cores, CPU model, memory, OS, .NET, Node and the date, in one line.</summary>
    public static string Describe()
    {
        var cpu = ReadField("/proc/cpuinfo", "model name") ?? "unknown CPU";
        var memory = ReadField("/proc/meminfo", "MemTotal") is { } total && long.TryParse(total.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out var kb)
            ? $"{kb / 1024.0 / 1024.0:F0} GiB"
            : "unknown memory";
        return $"Machine: {Environment.ProcessorCount} cores ({cpu}), {memory}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, Node {NodeVersion()}, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}.";
    }

    private static string? ReadField(string file, string name)
    {
        try
        {
            return File.ReadLines(file).Where(l => l.StartsWith(name, StringComparison.Ordinal)).Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).FirstOrDefault();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string NodeVersion()
    {
        try
        {
            using var node = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true, UseShellExecute = false });
            if (node is null)
            {
                return "missing";
            }

            var version = node.StandardOutput.ReadToEnd().Trim();
            node.WaitForExit(5000);
            return version.TrimStart('v');
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "missing";
        }
    }
}
