using System.Diagnostics;

namespace ChatKit.Transport.Kafka.Tests.Infrastructure;

internal static class Processes
{
    /// <summary>Runs a program to its end (at most 30 s); returns its output, or throws with its error output.</summary>
    public static async Task<string> RunAsync(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return process.ExitCode == 0 ? await output : throw new InvalidOperationException($"{file} failed with {process.ExitCode}: {await error}");
    }
}
