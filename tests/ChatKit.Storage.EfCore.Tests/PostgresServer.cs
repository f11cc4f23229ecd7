using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ChatKit.Storage.EfCore.Tests;

/// <summary>
/// A throwaway PostgreSQL 15 cluster on 127.0.0.1 and a free port, in a folder named after the process that
/// started it. Whoever starts one disposes it; clusters left by a process that died are swept at the next start.
/// Each test gets a database of its own.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private const string FolderPrefix = "chatkit-pg-";
    private int _databases;

    private PostgresServer(string directory, int port, bool durable)
    {
        Directory = directory;
        Port = port;
        Durable = durable;
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>Whether commits wait for the disk (fsync on), as in production; tests run without it.</summary>
    public bool Durable { get; }

    /// <summary>Starts a cluster: durable (fsync on) for benchmarks, fast for tests.</summary>
    public static Task<PostgresServer> StartAsync(bool durable = false) => StartClusterAsync(durable);

    /// <summary>Stops the cluster and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopQuietlyAsync(Directory);
    }

    /// <summary>Stops the server at once, as a crash would (connections are cut).</summary>
    public Task StopAsync() => RunAsync("runuser", $"-u postgres -- {BinDirectory}/pg_ctl -D {Directory}/data -m immediate -w stop");

    /// <summary>Starts the stopped server again on the same port and data.</summary>
    public Task StartAgainAsync() => RunAsync("runuser", StartArguments(Directory, Port, Durable));

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"chatkit_test_{Interlocked.Increment(ref _databases)}";
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=chatkit;Database={database};Pooling=true;Maximum Pool Size=40;Timeout=15;Command Timeout=15";

    private static async Task<PostgresServer> StartClusterAsync(bool durable)
    {
        if (!File.Exists(Path.Combine(BinDirectory, "pg_ctl")))
        {
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDirectory}); scripts/test.sh installs it.");
        }

        await SweepOrphansAsync();
        var directory = Path.Combine(Path.GetTempPath(), $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        await RunAsync("chown", $"postgres {directory}");
        await RunAsync("runuser", $"-u postgres -- {BinDirectory}/initdb -D {directory}/data -A trust -U chatkit --no-sync");
        var port = FreePort();
        await RunAsync("runuser", StartArguments(directory, port, durable));
        return new PostgresServer(directory, port, durable);
    }

    private static string StartArguments(string directory, int port, bool durable) =>
        $"-u postgres -- {BinDirectory}/pg_ctl -D {directory}/data -w -l {directory}/log -o \"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync={(durable ? "on" : "off")} -c max_connections=400\" start";

    /// <summary>Stops clusters whose starting process is gone (a crashed or killed test run).</summary>
    private static async Task SweepOrphansAsync()
    {
        foreach (var folder in System.IO.Directory.GetDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var owner = Path.GetFileName(folder)[FolderPrefix.Length..].Split('-')[0];
            if (int.TryParse(owner, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) && !IsRunning(pid))
            {
                await StopQuietlyAsync(folder);
            }
        }
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

    private static async Task StopQuietlyAsync(string directory)
    {
        if (System.IO.Directory.Exists(Path.Combine(directory, "data")))
        {
            using var stop = Process.Start(new ProcessStartInfo("runuser", $"-u postgres -- {BinDirectory}/pg_ctl -D {directory}/data -m immediate -w stop") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (stop is not null)
            {
                await stop.WaitForExitAsync();
            }
        }

        System.IO.Directory.Delete(directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {arguments}' failed with {process.ExitCode}: {await output} {await error}");
        }
    }
}
