using System.Net.WebSockets;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Engine;
using ChatKit.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.AspNetCore.Tests;

public sealed class HostIntegrationTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_hosts_room_authorizer_decides_who_may_send()
    {
        await using var server = await ChatTestServer.StartAsync(chatKit: kit => kit.UseRoomAuthorizer<AnnouncementsAuthorizer>());
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var announcements = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "announcements", Members = ["bob"] })).Info!;

        await alice.SendAsync(announcements.Id, "from the owner");
        var refused = await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Send, Room = announcements.Id, Cmid = "no", Body = "me too" });

        Assert.Equal(ChatErrorCodes.Forbidden, refused.Code);
        Assert.Equal(["from the owner"], (await bob.RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = announcements.Id })).Messages!.Select(m => m.Body));
    }

    [Fact(Timeout = 60_000)]
    public async Task Only_allowed_origins_may_open_a_connection_when_origins_are_configured()
    {
        await using var server = await ChatTestServer.StartAsync(chatKit: kit => kit.ConfigureServer(o => o.AllowedOrigins.Add("https://chat.example")));

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => RawChatClient.OpenAsync(server, "alice", origin: "https://evil.example"));
        using var allowed = await RawChatClient.OpenAsync(server, "alice", origin: "https://chat.example");
        using var native = await RawChatClient.OpenAsync(server, "alice");

        Assert.Equal(WebSocketError.NotAWebSocket, refused.WebSocketErrorCode);
        Assert.Equal(WebSocketState.Open, allowed.State);
        Assert.Equal(WebSocketState.Open, native.State);
    }

    [Fact(Timeout = 60_000)]
    public async Task Stopping_the_server_closes_connections_with_1001()
    {
        var server = await ChatTestServer.StartAsync();
        var client = await RawChatClient.ConnectAsync(server, "alice");

        var stopping = server.DisposeAsync();
        var status = await client.WaitForCloseAsync();
        await stopping;

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.Equal("server_shutdown", client.CloseDescription);
        await client.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Invalid_options_fail_at_start_with_every_problem_named()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => ChatTestServer.StartAsync(o =>
        {
            o.MaxOutboundBufferBytes = 0;
            o.TypingTimeout = TimeSpan.Zero;
        }));

        Assert.Contains(error.Failures, f => f.Contains("ChatKit:MaxOutboundBufferBytes", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ChatKit:TypingTimeout", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Calling_AddChatKit_twice_registers_everything_once()
    {
        await using var server = await ChatTestServer.StartAsync(chatKit: kit => kit.Services.AddChatKit());

        Assert.Single(server.Services.GetServices<ChatEngine>());
        await using var client = await RawChatClient.ConnectAsync(server, "alice");
        Assert.Equal(FrameTypes.Reply, (await client.RequestAsync(new ClientFrame { Type = FrameTypes.Ping })).Type);
    }

    private sealed class AnnouncementsAuthorizer(MembershipRoomAuthorizer membership) : IRoomAuthorizer
    {
        public async ValueTask<bool> AuthorizeAsync(RoomAccessContext context, CancellationToken cancellationToken)
        {
            if (context.Action == RoomAction.Send && context.Room.Name == "announcements" && context.Membership?.Role != Model.MemberRole.Owner)
            {
                return false;
            }

            return await membership.AuthorizeAsync(context, cancellationToken);
        }
    }
}
