using System.Net;
using ChatKit.Engine;
using ChatKit.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with a free port, running ChatKit at <c>/chat</c>. With <c>direct</c> (by default
/// when the environment variable CHATKIT_TEST_DIRECT is 1, as in the second run of these tests in scripts/test.sh) its
/// listener has ChatKit's direct WebSocket listener (<c>UseChatKit()</c>).
/// </summary>
internal sealed class ChatTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ChatTestServer(WebApplication app, Uri httpUri)
    {
        _app = app;
        HttpUri = httpUri;
        WebSocketUri = new Uri($"{(httpUri.Scheme == Uri.UriSchemeHttps ? "wss" : "ws")}://{httpUri.Authority}/chat");
    }

    public Uri HttpUri { get; }

    public Uri WebSocketUri { get; }

    public IServiceProvider Services => _app.Services;

    private static bool DirectByDefault => Environment.GetEnvironmentVariable("CHATKIT_TEST_DIRECT") == "1";

    /// <param name="configure">Engine options.</param>
    /// <param name="chatKit">More ChatKit registrations.</param>
    /// <param name="direct">Whether the listener has <c>UseChatKit()</c>; null for <see cref="DirectByDefault"/>.</param>
    /// <param name="kestrel">Kestrel's options (limits).</param>
    /// <param name="services">More services.</param>
    /// <param name="beforeEndpoints">Middleware after authentication, before the endpoints.</param>
    /// <param name="endpoint">Conventions on the route group MapChatKit returns.</param>
    /// <param name="listen">Settings of the listener before <c>UseChatKit()</c> (TLS, say).</param>
    public static async Task<ChatTestServer> StartAsync(
        Action<ChatKitOptions>? configure = null,
        Action<IChatKitBuilder>? chatKit = null,
        bool? direct = null,
        Action<KestrelServerOptions>? kestrel = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? beforeEndpoints = null,
        Action<RouteGroupBuilder>? endpoint = null,
        Action<ListenOptions>? listen = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options =>
        {
            kestrel?.Invoke(options);
            options.Listen(IPAddress.Loopback, 0, listenOptions =>
            {
                listen?.Invoke(listenOptions);
                if (direct ?? DirectByDefault)
                {
                    listenOptions.UseChatKit();
                }
            });
        });
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
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseWebSockets();
        app.UseAuthentication();
        beforeEndpoints?.Invoke(app);
        var group = app.MapChatKit("/chat");
        endpoint?.Invoke(group);
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
