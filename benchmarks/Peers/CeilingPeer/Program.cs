using System.Net;
using ChatKit.Peers.Ceiling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

if (!PeerOptions.TryParse(args, out var options, out var error))
{
    await Console.Error.WriteLineAsync($"{error}{Environment.NewLine}{PeerOptions.Usage}");
    return 2;
}

// The command line is ours alone: it does not go to the host's configuration.
var builder = WebApplication.CreateSlimBuilder();
// Warnings and errors only, all on stderr: stdout carries nothing but the READY line.
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
builder.Services.AddSingleton<RoomRegistry>();
await using var app = builder.Build();

var rooms = app.Services.GetRequiredService<RoomRegistry>();
using var relay = options.Redis is null ? null : await ConnectRedisAsync(options.Redis, rooms, app.Services.GetRequiredService<ILoggerFactory>());
if (options.Redis is not null && relay is null)
{
    return 1;
}

var endpoint = new WebSocketEndpoint(rooms, relay, app.Lifetime, app.Services.GetRequiredService<ILogger<WebSocketEndpoint>>());
app.UseWebSockets();
app.Map("/ws", endpoint.HandleAsync);

try
{
    await app.StartAsync();
}
catch (IOException ex)
{
    // Kestrel could not bind (the port is taken, say): one line, not an unhandled exception.
    await Console.Error.WriteLineAsync($"Could not listen on 127.0.0.1:{options.Port}: {ex.Message}");
    return 1;
}

await Console.Out.WriteLineAsync($"READY {options.Port}");
await Console.Out.FlushAsync();
await app.WaitForShutdownAsync();
return 0;

static async Task<RedisRelay?> ConnectRedisAsync(string endpoint, RoomRegistry rooms, ILoggerFactory loggers)
{
    try
    {
        return await RedisRelay.ConnectAsync(endpoint, rooms, loggers.CreateLogger<RedisRelay>());
    }
    catch (RedisConnectionException ex)
    {
        await Console.Error.WriteLineAsync($"Could not connect to Redis at {endpoint}: {ex.Message}");
        return null;
    }
}
