using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatKit.AspNetCore.Tests;

/// <summary>
/// ChatKit's direct WebSocket listener (<c>listenOptions.UseChatKit()</c>): chat connections that never become HTTP
/// requests, and everything else left to HTTP as it was.
/// </summary>
public sealed class DirectListenerTests
{
    [Theory(Timeout = 60_000)]
    [InlineData(true, 0)]
    [InlineData(false, 2)]
    public async Task Chat_connections_on_the_direct_listener_never_become_HTTP_requests(bool direct, int chatRequestsSeenByHttp)
    {
        var counter = new RequestCounter();
        await using var server = await ChatTestServer.StartAsync(direct: direct, beforeEndpoints: counter.Count);
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "direct", Members = ["bob"] })).Info!;

        await alice.SendAsync(room.Id, "hello");

        Assert.Equal(["hello"], (await bob.WaitForMessagesAsync(room.Id, 1)).Select(m => m.Body));
        Assert.Equal(chatRequestsSeenByHttp, counter.Seen);

        // The HTTP endpoints on the same listener are still HTTP.
        using var http = Http(server, "alice");
        using var rooms = await http.GetAsync(new Uri("/chat/rooms", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, rooms.StatusCode);
        Assert.Equal(chatRequestsSeenByHttp + 1, counter.Seen);
    }

    [Fact(Timeout = 60_000)]
    public async Task Refused_handshakes_go_to_HTTP_and_get_its_documented_answers()
    {
        var counter = new RequestCounter();
        await using var server = await ChatTestServer.StartAsync(
            direct: true,
            chatKit: kit => kit.ConfigureServer(o => o.AllowedOrigins.Add("https://chat.example")),
            beforeEndpoints: counter.Count);

        var (anonymous, anonymousBody) = await RefusedAsync(server, RawConnection.Handshake(user: null));
        var (elsewhere, elsewhereBody) = await RefusedAsync(server, RawConnection.Handshake("alice", extraHeaders: "Origin: https://evil.example\r\n"));
        await using var allowed = await RawChatClient.ConnectAsync(server, "alice");

        Assert.StartsWith("HTTP/1.1 401", anonymous, StringComparison.Ordinal);
        Assert.Equal(ChatErrorCodes.Unauthenticated, JsonDocument.Parse(anonymousBody).RootElement.GetProperty("code").GetString());
        Assert.StartsWith("HTTP/1.1 403", elsewhere, StringComparison.Ordinal);
        Assert.Equal(ChatErrorCodes.Forbidden, JsonDocument.Parse(elsewhereBody).RootElement.GetProperty("code").GetString());
        Assert.Equal(2, counter.Seen);
        Assert.Equal(FrameTypes.Reply, (await allowed.RequestAsync(new ClientFrame { Type = FrameTypes.Ping })).Type);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_endpoints_authorization_policy_decides_on_the_direct_listener_too()
    {
        var counter = new RequestCounter();
        await using var server = await ChatTestServer.StartAsync(
            direct: true,
            services: s => s.AddAuthorization(),
            beforeEndpoints: app =>
            {
                counter.Count(app);
                app.UseAuthorization();
            },
            endpoint: group => group.RequireAuthorization(policy => policy.RequireClaim(ClaimTypes.NameIdentifier, "alice")));

        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => RawChatClient.OpenAsync(server, "bob"));

        Assert.Equal(FrameTypes.Reply, (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Ping })).Type);
        Assert.Equal(WebSocketError.NotAWebSocket, refused.WebSocketErrorCode);
        Assert.Equal(1, counter.Seen);
    }

    [Fact(Timeout = 60_000)]
    public async Task Behind_UseHttps_the_direct_listener_takes_wss_connections()
    {
        var counter = new RequestCounter();
        await using var server = await ChatTestServer.StartAsync(direct: true, beforeEndpoints: counter.Count, listen: listen => listen.UseHttps(TestCertificate.Instance));
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "over tls", Members = ["bob"] })).Info!;

        await alice.SendAsync(room.Id, "encrypted in transit");

        Assert.Equal("wss", server.WebSocketUri.Scheme);
        Assert.Equal(["encrypted in transit"], (await bob.WaitForMessagesAsync(room.Id, 1)).Select(m => m.Body));
        Assert.Equal(0, counter.Seen);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_handshake_cut_into_single_bytes_is_accepted_with_the_RFC_accept_value()
    {
        await using var server = await ChatTestServer.StartAsync(direct: true);
        await using var connection = await RawConnection.OpenAsync(server);

        foreach (var b in Encoding.ASCII.GetBytes(RawConnection.Handshake("alice")))
        {
            await connection.WriteAsync([b]);
        }

        var head = await connection.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        Assert.Contains($"Sec-WebSocket-Accept: {RawConnection.ExampleAccept}\r\n", head, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Protocol: chatkit.v1\r\n", head, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_frame_sent_in_the_same_packet_as_the_handshake_is_read()
    {
        await using var server = await ChatTestServer.StartAsync(direct: true);
        await using var connection = await RawConnection.OpenAsync(server);

        await connection.WriteAsync([.. Encoding.ASCII.GetBytes(RawConnection.Handshake("alice")), .. RawConnection.TextFrame("{\"type\":\"hello\",\"id\":\"h1\"}")]);

        Assert.StartsWith("HTTP/1.1 101", await connection.ReadHeadAsync(), StringComparison.Ordinal);
        var welcome = JsonDocument.Parse(await connection.ReadTextFrameAsync()).RootElement;
        Assert.Equal("h1", welcome.GetProperty("re").GetString());
        Assert.Equal("alice", welcome.GetProperty("user").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_request_head_over_Kestrels_limits_gets_HTTPs_431()
    {
        await using var server = await ChatTestServer.StartAsync(direct: true);
        await using var connection = await RawConnection.OpenAsync(server);

        await connection.WriteAsync(RawConnection.Handshake("alice", extraHeaders: $"X-Padding: {new string('a', 64 * 1024)}\r\n"));

        Assert.StartsWith("HTTP/1.1 431", await connection.ReadHeadAsync(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Connections_that_never_finish_their_head_are_closed_after_the_headers_timeout_while_others_are_served()
    {
        await using var server = await ChatTestServer.StartAsync(direct: true, kestrel: k => k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1));
        await using var silent = await RawConnection.OpenAsync(server);
        await using var slow = await RawConnection.OpenAsync(server);
        await slow.WriteAsync("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");

        await using var alice = await RawChatClient.ConnectAsync(server, "alice");

        Assert.True(await silent.WaitForCloseAsync(TimeSpan.FromSeconds(30)));
        Assert.True(await slow.WaitForCloseAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(FrameTypes.Reply, (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Ping })).Type);
    }

    [Fact(Timeout = 60_000)]
    public async Task Other_requests_on_the_listener_reach_HTTP_unchanged()
    {
        await using var server = await ChatTestServer.StartAsync(direct: true);
        using var http = Http(server, "alice");

        using var created = await http.PostAsync(new Uri("/chat/rooms", UriKind.Relative), new StringContent("{\"name\":\"posted\"}", Encoding.UTF8, "application/json"));
        using var health = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var missing = await http.GetAsync(new Uri("/nothing", UriKind.Relative));
        using var plainGet = await http.GetAsync(new Uri("/chat", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, plainGet.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_direct_listener_without_ChatKits_services_fails_at_start_saying_what_to_add()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseChatKit()));
        builder.Logging.ClearProviders();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("services.AddChatKit()", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_a_MapChatKit_endpoint_every_connection_goes_to_HTTP()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseChatKit()));
        builder.Logging.ClearProviders();
        builder.Services.AddChatKit();
        await using var app = builder.Build();
        app.MapGet("/healthz", () => "ok");
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        await using var connection = await RawConnection.OpenAsync(address);

        await connection.WriteAsync(RawConnection.Handshake("alice"));

        Assert.StartsWith("HTTP/1.1 404", await connection.ReadHeadAsync(), StringComparison.Ordinal);
        await app.StopAsync();
    }

    private static async Task<(string Head, string Body)> RefusedAsync(ChatTestServer server, string handshake)
    {
        await using var connection = await RawConnection.OpenAsync(server);
        await connection.WriteAsync(handshake);
        var head = await connection.ReadHeadAsync();
        return (head, await connection.ReadBodyAsync(head));
    }

    private static HttpClient Http(ChatTestServer server, string user)
    {
        var http = new HttpClient { BaseAddress = server.HttpUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user);
        return http;
    }

    /// <summary>Counts the requests for <c>/chat</c> that reach the HTTP pipeline.</summary>
    private sealed class RequestCounter
    {
        private int _seen;

        public int Seen => Volatile.Read(ref _seen);

        public void Count(WebApplication app) => app.Use((HttpContext context, RequestDelegate next) =>
        {
            if (context.Request.Path.StartsWithSegments("/chat", StringComparison.OrdinalIgnoreCase))
            {
                Interlocked.Increment(ref _seen);
            }

            return next(context);
        });
    }
}
