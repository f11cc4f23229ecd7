using ChatKit.Peers;
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
PeerHost.Configure(builder, options.Port);
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

return await PeerHost.RunAsync(app, options.Port);

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
