using System.Globalization;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Peers;

namespace ChatKit.LoadGen;

/// <summary>
/// <c>hold</c>: opens idle connections to one node and keeps them, for scenario D, where one process cannot hold them
/// all (each connection is a file descriptor, and the open-file limit is per process). Prints one line
/// <c>HOLDING open=N failed=F[ error=...]</c> once every connection was tried, then runs until SIGTERM; when a connection
/// it holds is lost it prints <c>LOST ...</c> and exits with code 3, so the process that started it sees the loss.
/// </summary>
internal static class HoldCommand
{
    public const string ReadyText = "HOLDING";

    public static async Task<int> RunAsync(CommandOptions options)
    {
        var spec = SystemSpec.Find(options.Get("--system") ?? throw new UsageException("hold needs --system."));
        var port = int.Parse(options.Get("--port") ?? throw new UsageException("hold needs --port."), CultureInfo.InvariantCulture);
        var connections = (int)options.Number("--connections", 1_000);
        var firstUser = (int)options.Number("--first-user", 0);
        await using var run = new LoadRun(spec.Key, spec.Protocol, [port], connections, _ => { }, firstUser: firstUser);
        // 32 handshakes at a time: each makes the node read the user's rooms, and several nodes share one PostgreSQL.
        var failures = await run.ConnectAsync(connections, concurrency: 32);
        var error = run.Session.FirstError is { } first ? " error=" + first.ReplaceLineEndings(" ") : string.Empty;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ReadyText} open={run.Connections} failed={failures}{error}"));
        while (run.Session.Closed == 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"LOST {run.Session.Closed} of {run.Connections} connections: {run.Session.FirstError}"));
        return 3;
    }

    /// <summary>The number after <c>name=</c> in a <c>HOLDING</c> line (0 when it is not there).</summary>
    public static int Field(string line, string name)
    {
        var start = line.IndexOf(" " + name + "=", StringComparison.Ordinal);
        if (start < 0)
        {
            return 0;
        }

        var digits = line[(start + name.Length + 2)..].TakeWhile(char.IsAsciiDigit).ToArray();
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
    }
}
