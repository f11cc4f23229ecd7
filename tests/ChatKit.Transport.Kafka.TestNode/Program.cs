using ChatKit.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

// A ChatKit node for tests that kill a node's process: PostgreSQL, Redis and Kafka from the command line
// (--ChatKit:Storage:..., --ChatKit:Redis:..., --ChatKit:Kafka:...), users named by the bearer token.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
builder.Services.AddChatKit(options =>
{
    options.RatePerSecond = 100_000;
    options.RateBurst = 100_000;
}).AddEfCoreStorage().AddRedisBackplane().AddKafkaTransport();

var app = builder.Build();
app.UseWebSockets();
app.UseAuthentication();
app.MapChatKit("/chat");
await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"ChatKit test node: serving on {address}");
await app.WaitForShutdownAsync();
