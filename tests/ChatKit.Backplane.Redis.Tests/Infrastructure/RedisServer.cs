using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ChatKit.Backplane.Redis.Tests.Infrastructure;

/// <summary>
/// A real redis-server on 127.0.0.1 and a free port, owned by the test run: stopped when disposed, and restartable on
/// the same port to play an outage. Without persistence unless asked; a persistent one writes every command to its
/// append-only file before it answers (in a folder of its own, deleted when disposed) and comes back with its data.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private const string Executable = "/usr/bin/redis-server";
    private readonly string? _password;
    private readonly string? _folder;
    private Process? _process;

    private RedisServer(int port, string? password, string? folder)
    {
        Port = port;
        _password = password;
        _folder = folder;
    }

    public int Port { get; }

    /// <summary>A connection string for ChatKit:Redis:ConnectionString (with the password, when there is one).</summary>
    public string ConnectionString => _password is null ? $"127.0.0.1:{Port}" : $"127.0.0.1:{Port},password={_password}";

    public static async Task<RedisServer> StartAsync(string? password = null, bool persistent = false)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing; scripts/test.sh installs it (apt-get install redis-server).");
        }

        var folder = persistent ? Directory.CreateTempSubdirectory("chatkit-redis-").FullName : null;
        var server = new RedisServer(FreePort(), password, folder);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Stops the server; its clients see the connection drop.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open, nothing is answered, as a hung server.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Lets a frozen server go on (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    /// <summary>Starts the server again on the same port: empty, or with its data when it is persistent.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task StartProcessAsync()
    {
        var persistence = _folder is null ? "--appendonly no" : $"--appendonly yes --appendfsync always --dir {_folder}";
        var arguments = $"--port {Port} --bind 127.0.0.1 --save \"\" {persistence} --protected-mode no";
        if (_password is not null)
        {
            arguments += $" --requirepass {_password}";
        }

        var info = new ProcessStartInfo(Executable, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilServingAsync();
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {_process!.Id}") { UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with {kill.ExitCode}.");
        }
    }

    /// <summary>Waits until the server answers PING (or NOAUTH, which is an answer too).</summary>
    private async Task WaitUntilServingAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited at start with code {_process.ExitCode}.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer, timeout.Token);
                var reply = Encoding.ASCII.GetString(buffer, 0, read);
                if (reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            await Task.Delay(20, timeout.Token);
        }
    }
}
