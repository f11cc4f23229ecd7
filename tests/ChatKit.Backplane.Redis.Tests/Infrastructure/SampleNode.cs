using System.Diagnostics;

namespace ChatKit.Backplane.Redis.Tests.Infrastructure;

/// <summary>
/// The sample app (samples/ChatKit.Samples.Web, as built beside this test assembly) running as a process of its own
/// on 127.0.0.1 and a free port, so a test can kill it as a crash would: no goodbye to clients, Redis or the store.
/// </summary>
internal sealed class SampleNode : IAsyncDisposable
{
    private const string StartedLine = "ChatKit sample chat: open";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ProcessLog _log;

    private SampleNode(Process process, int port)
    {
        _process = process;
        Port = port;
        _log = new ProcessLog(process, line =>
        {
            if (line.Contains(StartedLine, StringComparison.Ordinal))
            {
                _started.TrySetResult();
            }
        });
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>Everything the node wrote so far, for failure messages.</summary>
    public string Output => _log.Text;

    /// <summary>Starts a node with the given configuration (<c>key=value</c>, as on its command line) and waits until it serves.</summary>
    public static async Task<SampleNode> StartAsync(IEnumerable<string> settings)
    {
        var port = RedisServer.FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(SampleAssembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(SampleAssembly);
        info.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        foreach (var setting in settings)
        {
            info.ArgumentList.Add("--" + setting);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(info) ?? throw new InvalidOperationException("The sample app did not start.");
        process.EnableRaisingEvents = true;
        var node = new SampleNode(process, port);
        process.Exited += (_, _) => node._started.TrySetException(new InvalidOperationException($"The sample node on port {port} exited before serving:\n{node.Output}"));
        try
        {
            await node._started.Task.WaitAsync(StartTimeout);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    /// <summary>SIGKILL: the process ends at once; its sockets are reset by the kernel.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>The sample's main assembly in the same configuration as the tests (the test project builds it first).</summary>
    private static string SampleAssembly
    {
        get
        {
            // This assembly is in bin/{Configuration}/{tfm}/; so is the sample's.
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var path = Path.Combine(RepositoryPaths.Root, "samples", "ChatKit.Samples.Web", "bin", output.Parent!.Name, output.Name, "ChatKit.Samples.Web.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"The sample app is not built at {path}; build ChatKit.sln first.");
        }
    }
}
