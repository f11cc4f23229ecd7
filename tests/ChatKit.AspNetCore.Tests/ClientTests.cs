using System.Net.WebSockets;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Client;
using ChatKit.Messaging;
using ChatKit.Model;
using ChatKit.Protocol;
using ChatKit.Sessions;
using ChatKit.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.AspNetCore.Tests;

public sealed class ClientTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_client_chats_and_after_the_server_drops_it_reconnects_and_gets_exactly_the_missed_messages()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = NewClient(server, "alice");
        await alice.ConnectAsync();
        await using var events = new ClientEvents(alice);
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var room = await alice.CreateRoomAsync("client", members: ["bob"]);
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded);

        for (var i = 1; i <= 5; i++)
        {
            await bob.SendAsync(room.Id, $"m{i}");
        }

        await events.WaitUntilAsync(_ => events.Messages(room.Id).Count == 5);
        var session = Assert.Single(server.Services.GetRequiredService<ConnectionRegistry>().SessionsOf("alice"));
        session.Close((int)WebSocketCloseStatus.EndpointUnavailable, "server_shutdown");
        await events.WaitUntilAsync(all => all.OfType<ConnectionStateChangedEvent>().Any(e => e.State == ConnectionState.Reconnecting));
        for (var i = 6; i <= 10; i++)
        {
            await bob.SendAsync(room.Id, $"m{i}");
        }

        await events.WaitUntilAsync(_ => events.Messages(room.Id).Count >= 10);
        var own = await alice.SendAsync(room.Id, "back");
        await events.WaitUntilAsync(_ => events.Messages(room.Id).Any(m => m.Body == "back"));

        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), events.Messages(room.Id).Select(m => m.Seq));
        Assert.Equal(11, own.Seq);
        Assert.Equal(11, alice.LastSeenSequences[room.Id]);
        Assert.Equal(ConnectionState.Connected, alice.State);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_send_whose_reply_is_lost_is_retried_after_reconnecting_and_stored_once()
    {
        await using var server = await ChatTestServer.StartAsync(chatKit: kit => kit.Services.AddSingleton<IMessageLog, ReplyLosingLog>());
        await using var alice = NewClient(server, "alice");
        await alice.ConnectAsync();
        var room = await alice.CreateRoomAsync("lossy");
        await alice.SendAsync(room.Id, "first");

        var receipt = await alice.SendAsync(room.Id, "reply lost", ReplyLosingLog.LoseReplyOf);
        await alice.SendAsync(room.Id, "third");

        Assert.True(receipt.Duplicate);
        Assert.Equal(2, receipt.Seq);
        var history = await alice.GetHistoryAsync(room.Id, after: 0);
        Assert.Equal(["first", "reply lost", "third"], history.Messages.Select(m => m.Body));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_client_reports_server_errors_with_their_codes_and_is_refused_without_a_token()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = NewClient(server, "alice");
        await alice.ConnectAsync();

        var notFound = await Assert.ThrowsAsync<ChatClientException>(() => alice.SendAsync("r_missing", "hello"));
        Assert.Equal(ChatErrorCodes.NotFound, notFound.Code);

        await using var anonymous = NewClient(server, user: null);
        var refused = await Assert.ThrowsAsync<ChatClientException>(() => anonymous.ConnectAsync());
        Assert.Equal(ChatErrorCodes.Unauthenticated, refused.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Rooms_members_presence_typing_and_receipts_work_through_the_client()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = NewClient(server, "alice");
        await using var bob = NewClient(server, "bob");
        await alice.ConnectAsync();
        await bob.ConnectAsync();
        await using var aliceEvents = new ClientEvents(alice);

        var room = await alice.CreateRoomAsync("team", RoomVisibility.Public);
        var joined = await bob.JoinAsync(room.Id);
        Assert.Equal("member", joined.Role);
        Assert.Equal(["alice", "bob"], (await alice.ListMembersAsync(room.Id)).Select(m => m.User));
        await aliceEvents.WaitUntilAsync(all => all.OfType<MemberJoinedEvent>().Any(e => e.Member.User == "bob"));

        await bob.SetTypingAsync(room.Id);
        await aliceEvents.WaitUntilAsync(all => all.OfType<TypingEvent>().Any(e => e.User == "bob" && e.Active));
        var sent = await bob.SendAsync(room.Id, "hi");
        var read = await alice.MarkReadAsync(room.Id, sent.Seq);
        Assert.Equal(0, read.Unread);
        Assert.True((await bob.GetPresenceAsync(["alice"])).Single().Online);
        Assert.Contains(await alice.SearchUsersAsync("b"), u => u.User == "bob");
        Assert.Equal(room.Id, Assert.Single(await bob.ListRoomsAsync()).Id);
    }

    private static ChatClient NewClient(ChatTestServer server, string? user) => new(new ChatClientOptions
    {
        ServerUri = server.WebSocketUri,
        AccessTokenProvider = _ => ValueTask.FromResult(user),
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        RequestTimeout = TimeSpan.FromSeconds(10),
    });

    /// <summary>Stores like the default log, but drops the sender's connection before the reply to one message goes out.</summary>
    private sealed class ReplyLosingLog(IChatStore store, ConnectionRegistry registry) : IMessageLog
    {
        public const string LoseReplyOf = "lose-this-reply";
        private int _lost;

        public async ValueTask<AppendResult> AppendAsync(NewMessage message, CancellationToken cancellationToken)
        {
            var result = await store.AppendMessageAsync(message, cancellationToken);
            if (message.ClientMessageId == LoseReplyOf && Interlocked.Exchange(ref _lost, 1) == 0)
            {
                foreach (var session in registry.SessionsOf(message.SenderId))
                {
                    session.Close((int)WebSocketCloseStatus.InternalServerError, "lost");
                }
            }

            return result;
        }
    }
}
