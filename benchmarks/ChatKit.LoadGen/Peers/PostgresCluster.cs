using System.Diagnostics;
using System.Globalization;

namespace ChatKit.LoadGen.Peers;

/// <summary>
/// A throwaway PostgreSQL 15 cluster on 127.0.0.1 (as tests/ChatKit.Storage.EfCore.Tests/PostgresServer.cs starts
/// one, fsync on as in production), in a folder named after this process; clusters left by a dead run are swept.
/// Needs root (the cluster runs as the postgres user).
/// </summary>
internal sealed class PostgresCluster : IAsyncDisposable
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private const string FolderPrefix = "chatkit-loadgen-pg-";
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Started = new(StringComparer.Ordinal);
    private int _databases;

    private PostgresCluster(string directory, int port)
    {
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    public static async Task<PostgresCluster> StartAsync()
    {
        if (!File.Exists(Path.Combine(BinDirectory, "pg_ctl")))
        {
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDirectory}): apt-get install postgresql-15 (scripts/test.sh does).");
        }

        foreach (var folder in System.IO.Directory.GetDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var owner = Path.GetFileName(folder)[FolderPrefix.Length..].Split('-')[0];
            if (int.TryParse(owner, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !IsRunning(pid))
            {
                await StopAsync(folder);
            }
        }

        var directory = Path.Combine(Path.GetTempPath(), $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        await RunAsync("chown", ["postgres", directory]);
        await RunAsync("runuser", ["-u", "postgres", "--", $"{BinDirectory}/initdb", "-D", $"{directory}/data", "-A", "trust", "-U", "chatkit", "--no-sync"]);
        var port = Ports.Free();
        await RunAsync("runuser", ["-u", "postgres", "--", $"{BinDirectory}/pg_ctl", "-D", $"{directory}/data", "-w", "-l", $"{directory}/log", "-o",
            $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=400", "start"]);
        Started[directory] = true;
        return new PostgresCluster(directory, port);
    }

    /// <summary>Stops every cluster this process started (an interrupted run), without waiting for a clean shutdown.</summary>
    public static void StopAllStarted()
    {
        foreach (var directory in Started.Keys)
        {
            using var stop = Process.Start(new ProcessStartInfo("runuser", ["-u", "postgres", "--", $"{BinDirectory}/pg_ctl", "-D", $"{directory}/data", "-m", "immediate", "stop"]) { UseShellExecute = false });
            stop?.WaitForExit(10_000);
        }
    }

    /// <summary>Creates an empty database and returns its Npgsql connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"chatkit_loadgen_{Interlocked.Increment(ref _databases)}";
        await RunAsync("runuser", ["-u", "postgres", "--", $"{BinDirectory}/createdb", "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "chatkit", name]);
        return $"Host=127.0.0.1;Port={Port};Username=chatkit;Database={name};Pooling=true;Maximum Pool Size=40;Timeout=15;Command Timeout=15";
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(Directory);
        Started.TryRemove(Directory, out _);
    }

    private static async Task StopAsync(string directory)
    {
        if (System.IO.Directory.Exists(Path.Combine(directory, "data")))
        {
            try
            {
                await RunAsync("runuser", ["-u", "postgres", "--", $"{BinDirectory}/pg_ctl", "-D", $"{directory}/data", "-m", "immediate", "-w", "stop"]);
            }
            catch (InvalidOperationException)
            {
                // Not running.
            }
        }

        System.IO.Directory.Delete(directory, recursive: true);
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task RunAsync(string file, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {string.Join(' ', arguments)}' failed with {process.ExitCode}: {await output} {await error}");
        }
    }
}
