using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace ChatKit.Peers;

/// <summary>
/// What every .NET peer does the same way (benchmarks/Peers/README.md): it listens on 127.0.0.1 only, logs warnings
/// and errors to stderr, prints one <c>READY PORT</c> line on stdout once it accepts connections, and says in one line
/// (exit code 1) when it cannot listen. Linked into each peer's project.
/// </summary>
internal static class PeerHost
{
    /// <summary>Listens on 127.0.0.1:<paramref name="port"/> only and logs warnings and errors to stderr.</summary>
    /// <param name="builder">The peer's app.</param>
    /// <param name="port">The port on 127.0.0.1.</param>
    /// <param name="listen">More settings of the listener (ChatKit's direct WebSocket listener, say).</param>
    public static void Configure(WebApplicationBuilder builder, int port, Action<ListenOptions>? listen = null)
    {
        // Warnings and errors only, all on stderr: stdout carries nothing but the READY line.
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, options => listen?.Invoke(options)));
    }

    /// <summary>Starts the app, prints the READY line, and runs until SIGTERM or SIGINT; returns the exit code.</summary>
    public static Task<int> RunAsync(WebApplication app, int port) => RunAsync([app], [port]);

    /// <summary>
    /// Starts every app (the nodes of one process, each on its port), prints the READY line of the first port once all
    /// accept connections, and runs until SIGTERM or SIGINT stops them; returns the exit code.
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<WebApplication> apps, IReadOnlyList<int> ports)
    {
        for (var i = 0; i < apps.Count; i++)
        {
            try
            {
                await apps[i].StartAsync();
            }
            catch (IOException ex)
            {
                // Kestrel could not bind (the port is taken, say): one line, not an unhandled exception.
                await Console.Error.WriteLineAsync($"Could not listen on 127.0.0.1:{ports[i]}: {ex.Message}");
                return 1;
            }
        }

        await Console.Out.WriteLineAsync($"READY {ports[0]}");
        await Console.Out.FlushAsync();
        await Task.WhenAny(apps.Select(a => a.WaitForShutdownAsync()));
        foreach (var app in apps)
        {
            await app.StopAsync();
        }

        return 0;
    }
}
