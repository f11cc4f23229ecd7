using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ChatKit.Backplane.Redis.Tests.Infrastructure;

/// <summary>
/// nginx from Debian's packages running the sample configuration (samples/nginx) unchanged but for its addresses:
/// it listens on a free port of 127.0.0.1 and balances over the given nodes.
/// </summary>
internal sealed partial class NginxServer : IAsyncDisposable
{
    private const string Executable = "/usr/sbin/nginx";
    private readonly Process _process;
    private readonly string _prefix;
    private readonly ProcessLog _log;

    private NginxServer(Process process, string prefix, int port)
    {
        _process = process;
        _prefix = prefix;
        Port = port;
        _log = new ProcessLog(process);
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    public static async Task<NginxServer> StartAsync(IReadOnlyList<int> nodePorts)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing; scripts/test.sh installs it (apt-get install nginx-light).");
        }

        var prefix = Directory.CreateTempSubdirectory("chatkit-nginx-").FullName;
        var samples = Path.Combine(RepositoryPaths.Root, "samples", "nginx");
        File.Copy(Path.Combine(samples, "nginx.conf"), Path.Combine(prefix, "nginx.conf"));
        var port = RedisServer.FreePort();
        File.WriteAllText(Path.Combine(prefix, "chatkit.conf"), Readdress(File.ReadAllText(Path.Combine(samples, "chatkit.conf")), port, nodePorts));

        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-p", prefix, "-c", Path.Combine(prefix, "nginx.conf"), "-g", "daemon off;" })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("nginx did not start.");
        var server = new NginxServer(process, prefix, port);
        await server.WaitUntilListeningAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // The master and its workers: a killed master alone would leave the workers holding the port.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_prefix, recursive: true);
    }

    /// <summary>The sample's listen address and upstream servers, replaced by the test's.</summary>
    private static string Readdress(string configuration, int port, IReadOnlyList<int> nodePorts)
    {
        var upstreams = UpstreamServer().Matches(configuration);
        if (upstreams.Count != nodePorts.Count)
        {
            throw new InvalidOperationException($"samples/nginx/chatkit.conf names {upstreams.Count} nodes; the test starts {nodePorts.Count}.");
        }

        var node = 0;
        configuration = UpstreamServer().Replace(configuration, match => $"{match.Groups["directive"].Value}127.0.0.1:{nodePorts[node++]}");
        return ListenAddress().Replace(configuration, $"${{directive}}127.0.0.1:{port};");
    }

    private async Task WaitUntilListeningAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {_process.ExitCode}: {_log.Text}");
            }

            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, Port, timeout.Token);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
            }
        }
    }

    [GeneratedRegex(@"(?<directive>\bserver\s+)127\.0\.0\.1:\d+", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex UpstreamServer();

    [GeneratedRegex(@"(?<directive>\blisten\s+)127\.0\.0\.1:\d+;", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ListenAddress();
}
