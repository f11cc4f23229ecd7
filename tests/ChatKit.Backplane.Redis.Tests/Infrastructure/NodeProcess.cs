using System.Diagnostics;

namespace ChatKit.Backplane.Redis.Tests.Infrastructure;

/// <summary>
/// An ASP.NET Core app of the repository (as built beside this test assembly) running as a process of its own on
/// 127.0.0.1 and a free port, so a test can kill it as a crash would: no goodbye to clients, Redis, Kafka or the store.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ProcessLog _log;

    private NodeProcess(Process process, int port, string startedLine)
    {
        _process = process;
        Port = port;
        _log = new ProcessLog(process, line =>
        {
            if (line.Contains(startedLine, StringComparison.Ordinal))
            {
                _started.TrySetResult();
            }
        });
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/chat");

    /// <summary>Everything the node wrote so far, for failure messages.</summary>
    public string Output => _log.Text;

    /// <summary>A node of the sample app (samples/ChatKit.Samples.Web).</summary>
    public static Task<NodeProcess> StartSampleAsync(IEnumerable<string> settings) =>
        StartAsync(Path.Combine("samples", "ChatKit.Samples.Web"), "ChatKit.Samples.Web", "ChatKit sample chat: open", settings);

    /// <summary>
    /// Starts the app of the project in <paramref name="projectFolder"/> with the given configuration (<c>key=value</c>,
    /// as on its command line) and waits until it writes <paramref name="startedLine"/>.
    /// </summary>
    public static async Task<NodeProcess> StartAsync(string projectFolder, string assemblyName, string startedLine, IEnumerable<string> settings)
    {
        var port = RedisServer.FreePort();
        var assembly = BuiltAssembly(projectFolder, assemblyName);
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        foreach (var setting in settings)
        {
            info.ArgumentList.Add("--" + setting);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{assemblyName} did not start.");
        process.EnableRaisingEvents = true;
        var node = new NodeProcess(process, port, startedLine);
        process.Exited += (_, _) => node._started.TrySetException(new InvalidOperationException($"{assemblyName} on port {port} exited before serving:\n{node.Output}"));
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

    /// <summary>A project's main assembly in the same configuration as the tests (the test project builds it first).</summary>
    private static string BuiltAssembly(string projectFolder, string assemblyName)
    {
        // This assembly is in bin/{Configuration}/{tfm}/; so is the app's.
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(RepositoryPaths.Root, projectFolder, "bin", output.Parent!.Name, output.Name, assemblyName + ".dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"{assemblyName} is not built at {path}; build ChatKit.sln first.");
    }
}
