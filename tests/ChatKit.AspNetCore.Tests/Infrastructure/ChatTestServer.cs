using ChatKit.Engine;
using ChatKit.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

/// <summary>A real Kestrel server on 127.0.0.1 with a free port, running ChatKit at <c>/chat</c>.</summary>
internal sealed class ChatTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ChatTestServer(WebApplication app, Uri httpUri)
    {
        _app = app;
        HttpUri = httpUri;
        WebSocketUri = new Uri($"ws://{httpUri.Authority}/chat");
    }

    public Uri HttpUri { get; }

    public Uri WebSocketUri { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ChatTestServer> StartAsync(Action<ChatKitOptions>? configure = null, Action<IChatKitBuilder>? chatKit = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        var kit = builder.Services.AddChatKit(options =>
        {
            // Tests send in bursts; the rate limit has tests of its own.
            options.RatePerSecond = 100_000;
            options.RateBurst = 100_000;
            configure?.Invoke(options);
        });
        chatKit?.Invoke(kit);
        var app = builder.Build();
        app.UseWebSockets();
        app.UseAuthentication();
        app.MapChatKit("/chat");
        app.MapHealthChecks("/healthz");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ChatTestServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
