using ChatKit.Peers;
using ChatKit.Peers.SignalR;
using Microsoft.AspNetCore.SignalR;

if (!PeerOptions.TryParse(args, out var options, out var error))
{
    await Console.Error.WriteLineAsync($"{error}{Environment.NewLine}{PeerOptions.Usage}");
    return 2;
}

// The command line is ours alone: it does not go to the host's configuration.
var builder = WebApplication.CreateBuilder();
PeerHost.Configure(builder, options.Port);
builder.Services.AddSignalR();
builder.Services.AddSingleton<IUserIdProvider, QueryUserIdProvider>();
await using var app = builder.Build();
app.MapHub<RoomHub>("/hub");

return await PeerHost.RunAsync(app, options.Port);
