using System.Diagnostics;
using System.Globalization;

namespace ChatKit.LoadGen.Peers;

/// <summary>
/// A server process of the benchmark (a peer, redis-server): started with its arguments, ready when a line of its
/// output contains the ready text, stopped with SIGTERM (then killed after 10 s). Its first output lines are echoed
/// with its name; the rest are counted.
/// </summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private const int EchoedLines = 20;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<PeerProcess, bool> Running = new();
    private readonly Process _process;
    private readonly string _name;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _readyText;
    private readonly bool _echo;
    private int _lines;

    private PeerProcess(string name, Process process, string readyText, bool echo)
    {
        _echo = echo;
        _name = name;
        _process = process;
        _readyText = readyText;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The output line that held the ready text.</summary>
    public string ReadyLine { get; private set; } = "";

    public static async Task<PeerProcess> StartAsync(string name, string file, IEnumerable<string> arguments, string readyText, TimeSpan timeout, string? workingDirectory = null, bool echo = true)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var peer = new PeerProcess(name, process, readyText, echo);
        process.OutputDataReceived += (_, e) => peer.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => peer.OnLine(e.Data);
        process.Exited += (_, _) => peer._ready.TrySetException(new InvalidOperationException($"{name} exited with code {process.ExitCode} before it was ready ({file} {string.Join(' ', info.ArgumentList)})."));
        if (!process.Start())
        {
            throw new InvalidOperationException($"{name} did not start: {file}.");
        }

        Running[peer] = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await peer._ready.Task.WaitAsync(timeout);
        }
        catch (TimeoutException e)
        {
            await peer.DisposeAsync();
            throw new TimeoutException($"{name} printed no '{readyText}' within {timeout.TotalSeconds:N0} s ({file} {string.Join(' ', info.ArgumentList)}).", e);
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }

        return peer;
    }

    /// <summary>The process's resident memory (VmRSS in /proc/PID/status), in bytes; 0 once it is gone.</summary>
    public long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // The process is gone.
        }

        return 0;
    }

    /// <summary>CPU time the process has used so far, user and kernel; what it had when it exited once it is gone.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>Kills every process still running (Ctrl+C): no grace, the run is being abandoned.</summary>
    public static void KillAll()
    {
        foreach (var peer in Running.Keys)
        {
            try
            {
                peer._process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Running.TryRemove(this, out _);
        try
        {
            if (!_process.HasExited)
            {
                using var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                if (term is not null)
                {
                    await term.WaitForExitAsync();
                }

                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        finally
        {
            if (_echo && _lines > EchoedLines)
            {
                Console.WriteLine($"  [{_name}] {_lines - EchoedLines} more output lines not shown");
            }

            _process.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (!_ready.Task.IsCompleted && line.Contains(_readyText, StringComparison.Ordinal))
        {
            ReadyLine = line;
            _ready.TrySetResult();
            return;
        }

        if (Interlocked.Increment(ref _lines) <= EchoedLines && _echo)
        {
            Console.WriteLine($"  [{_name}] {line}");
        }
    }
}
