using System.Net.WebSockets;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;
using ChatKit.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.AspNetCore.Tests;

public sealed class SlowConsumerTests
{
    private const int OutboundLimit = 256 * 1024;

    [Fact(Timeout = 120_000)]
    public async Task A_client_that_stops_reading_is_disconnected_at_the_buffer_limit_and_resumes_without_loss()
    {
        await using var server = await ChatTestServer.StartAsync(o =>
        {
            o.MaxOutboundBufferBytes = OutboundLimit;
            o.CloseTimeout = TimeSpan.FromSeconds(1);
        });
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "firehose", Members = ["slow"] })).Info!;

        // The slow client says hello, reads its welcome, then never reads again.
        using var slow = await RawChatClient.OpenAsync(server, "slow", receiveBufferBytes: 1024);
        await slow.SendAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        await slow.ReceiveAsync(buffer, CancellationToken.None);
        var registry = server.Services.GetRequiredService<ConnectionRegistry>();
        var session = Assert.Single(registry.SessionsOf("slow"));

        var body = new string('x', 15_000);
        var sent = 0L;
        for (var i = 0; i < 5_000 && !session.Overflowed; i++)
        {
            sent = (await alice.SendAsync(room.Id, body)).Seq!.Value;
        }

        Assert.True(session.Overflowed, "the slow session never passed its outbound limit");
        await session.Closed.WaitAsync(RawChatClient.Timeout);
        Assert.Empty(registry.SessionsOf("slow"));
        Assert.InRange(session.PeakPendingBytes, 1, OutboundLimit);

        // Everyone else was served throughout, and the slow user loses nothing when they come back.
        var last = await alice.SendAsync(room.Id, "after the overflow");
        await using var back = await RawChatClient.ConnectAsync(server, "slow", new Dictionary<string, long> { [room.Id] = 0 });
        var messages = await back.WaitForMessagesAsync(room.Id, (int)last.Seq!.Value);
        Assert.Equal(Enumerable.Range(1, (int)last.Seq!.Value).Select(i => (long)i), messages.Select(m => m.Seq!.Value));
        Assert.True(sent > 0);
    }
}
