using System.Net;
using System.Net.WebSockets;
using System.Text;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests;

public sealed class BadInputTests
{
    [Fact(Timeout = 60_000)]
    public async Task Bad_frames_get_their_documented_errors_while_the_server_keeps_serving_and_nothing_stored_changes()
    {
        await using var server = await ChatTestServer.StartAsync(o =>
        {
            o.MaxMessageBytes = 1000;
            o.MaxFrameBytes = 4096;
        });
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        await using var mallory = await RawChatClient.ConnectAsync(server, "mallory");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "safe", Members = ["bob"] })).Info!;
        await alice.SendAsync(room.Id, "one");

        await mallory.SendTextAsync("{ this is not json");
        Assert.Equal(ChatErrorCodes.MalformedFrame, (await mallory.NextReplyAsync(null)).Code);

        await mallory.SendTextAsync("[1,2,3]");
        Assert.Equal(ChatErrorCodes.MalformedFrame, (await mallory.NextReplyAsync(null)).Code);

        await mallory.SendTextAsync("{\"type\":\"send\",\"id\":\"x1\",\"room\":42}");
        Assert.Equal(ChatErrorCodes.MalformedFrame, (await mallory.NextReplyAsync("x1")).Code);

        await mallory.SendRawAsync([1, 2, 3], WebSocketMessageType.Binary);
        Assert.Equal(ChatErrorCodes.MalformedFrame, (await mallory.NextReplyAsync(null)).Code);

        await mallory.SendTextAsync("{\"type\":\"send\"}");
        var noId = await mallory.NextReplyAsync(null);
        Assert.Equal(ChatErrorCodes.MissingField, noId.Code);
        Assert.Contains("'id'", noId.Message, StringComparison.Ordinal);

        var unknown = await mallory.RequestErrorAsync(new ClientFrame { Type = "rooms.destroy", Room = room.Id });
        Assert.Equal(ChatErrorCodes.UnknownType, unknown.Code);

        var missing = await mallory.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Send, Room = room.Id, Cmid = "m1" });
        Assert.Equal(ChatErrorCodes.MissingField, missing.Code);
        Assert.Contains("'body'", missing.Message, StringComparison.Ordinal);

        var badCmid = await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Send, Room = room.Id, Cmid = "has space", Body = "x" });
        Assert.Equal(ChatErrorCodes.InvalidField, badCmid.Code);

        var tooLong = await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Send, Room = room.Id, Cmid = "big", Body = new string('é', 600) });
        Assert.Equal(ChatErrorCodes.MessageTooLarge, tooLong.Code);

        await mallory.SendTextAsync("{\"type\":\"ping\",\"id\":\"huge\",\"pad\":\"" + new string('a', 10_000) + "\"}");
        Assert.Equal(ChatErrorCodes.FrameTooLarge, (await mallory.NextReplyAsync(null)).Code);

        var notMember = await mallory.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Send, Room = room.Id, Cmid = "intrude", Body = "let me in" });
        Assert.Equal(ChatErrorCodes.Forbidden, notMember.Code);
        var notMemberHistory = await mallory.RequestErrorAsync(new ClientFrame { Type = FrameTypes.History, Room = room.Id });
        Assert.Equal(ChatErrorCodes.Forbidden, notMemberHistory.Code);
        var privateJoin = await mallory.RequestErrorAsync(new ClientFrame { Type = FrameTypes.RoomsJoin, Room = room.Id });
        Assert.Equal(ChatErrorCodes.Forbidden, privateJoin.Code);
        var noRoom = await mallory.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Send, Room = "r_missing", Cmid = "x", Body = "x" });
        Assert.Equal(ChatErrorCodes.NotFound, noRoom.Code);

        var secondHello = await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Hello });
        Assert.Equal(ChatErrorCodes.AlreadyConnected, secondHello.Code);

        // The connection that sent all of that still works, and so does everyone else's.
        Assert.Equal(FrameTypes.Reply, (await mallory.RequestAsync(new ClientFrame { Type = FrameTypes.Ping })).Type);
        await alice.SendAsync(room.Id, "two");
        var history = await bob.RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = room.Id });
        Assert.Equal(["one", "two"], history.Messages!.Select(m => m.Body));
        Assert.Equal([1L, 2L], history.Messages!.Select(m => m.Seq));
        Assert.Equal(["one", "two"], (await bob.WaitForMessagesAsync(room.Id, 2)).Select(m => m.Body));
        Assert.Empty(mallory.MessagesOf(room.Id));
    }

    [Fact(Timeout = 60_000)]
    public async Task Requests_before_hello_are_refused_with_hello_required()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var client = await RawChatClient.ConnectAsync(server, "alice", hello: false);

        var error = await client.RequestErrorAsync(new ClientFrame { Type = FrameTypes.RoomsList });

        Assert.Equal(ChatErrorCodes.HelloRequired, error.Code);
        Assert.Equal(FrameTypes.Reply, (await client.RequestAsync(new ClientFrame { Type = FrameTypes.Hello })).Type);
        Assert.Equal(FrameTypes.Reply, (await client.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsList })).Type);
    }

    [Fact(Timeout = 60_000)]
    public async Task Too_many_frames_per_second_get_rate_limited_with_a_retry_time_and_are_not_processed()
    {
        await using var server = await ChatTestServer.StartAsync(o =>
        {
            o.RatePerSecond = 1;
            o.RateBurst = 5;
        });
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "busy", Members = ["bob"] })).Info!;

        var ids = Enumerable.Range(0, 10).Select(i => $"flood{i}").ToList();
        foreach (var id in ids)
        {
            await alice.SendRawAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Send, Id = id, Room = room.Id, Cmid = id, Body = id }));
        }

        var replies = new List<ServerFrame>();
        foreach (var id in ids)
        {
            replies.Add(await alice.NextReplyAsync(id));
        }

        var limited = replies.Where(r => r.Code == ChatErrorCodes.RateLimited).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, r => Assert.True(r.RetryAfterMs > 0));
        var stored = replies.Count(r => r.Type == FrameTypes.Reply);
        var history = await bob.RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = room.Id });
        Assert.Equal(stored, history.Messages!.Count);
        Assert.Equal(replies.Where(r => r.Type == FrameTypes.Reply).Select(r => r.Cmid), history.Messages!.Select(m => m.Cmid));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unauthenticated_upgrade_is_refused_with_401()
    {
        await using var server = await ChatTestServer.StartAsync();

        var error = await Assert.ThrowsAsync<WebSocketException>(() => RawChatClient.OpenAsync(server, user: null));

        Assert.Equal(WebSocketError.NotAWebSocket, error.WebSocketErrorCode);
        using var http = new HttpClient { BaseAddress = server.HttpUri };
        using var response = await http.GetAsync(new Uri("/chat/rooms", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"code\":\"unauthenticated\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_client_without_the_chatkit_subprotocol_is_closed_with_4002()
    {
        await using var server = await ChatTestServer.StartAsync();
        using var socket = await RawChatClient.OpenAsync(server, "alice", subprotocol: null);

        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(RawChatClient.Timeout);
        var result = await socket.ReceiveAsync(buffer, timeout.Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(ChatCloseCodes.UnsupportedProtocol, (int)socket.CloseStatus!.Value);
        Assert.Equal("unsupported_protocol", socket.CloseStatusDescription);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_connection_that_never_says_hello_is_closed_with_4001()
    {
        await using var server = await ChatTestServer.StartAsync(o => o.HelloTimeout = TimeSpan.FromMilliseconds(300));
        await using var client = await RawChatClient.ConnectAsync(server, "alice", hello: false);

        var status = await client.WaitForCloseAsync();

        Assert.Equal(ChatCloseCodes.HelloTimeout, (int)status!.Value);
        Assert.Equal("hello_timeout", client.CloseDescription);
    }

    [Fact(Timeout = 60_000)]
    public async Task Invalid_utf8_closes_the_connection_with_1007_and_other_connections_keep_working()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var bytes = Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"id\":\"x\",\"pad\":\"??\"}");
        bytes[^4] = 0xC3;
        bytes[^3] = 0x28;

        await alice.SendRawAsync(bytes);

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await alice.WaitForCloseAsync());
        Assert.Equal(FrameTypes.Reply, (await bob.RequestAsync(new ClientFrame { Type = FrameTypes.Ping })).Type);
    }
}
