using System.Net;
using ChatKit.Peers.SignalR;
using Microsoft.AspNetCore.SignalR;

if (!PeerOptions.TryParse(args, out var options, out var error))
{
    await Console.Error.WriteLineAsync($"{error}{Environment.NewLine}{PeerOptions.Usage}");
    return 2;
}

// The command line is ours alone: it does not go to the host's configuration.
var builder = WebApplication.CreateBuilder();
// Warnings and errors only, all on stderr: stdout carries nothing but the READY line.
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
builder.Services.AddSignalR();
builder.Services.AddSingleton<IUserIdProvider, QueryUserIdProvider>();
await using var app = builder.Build();
app.MapHub<RoomHub>("/hub");

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
