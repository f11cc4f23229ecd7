using System.Text;
using ChatKit.Backplane;
using ChatKit.Core.Tests.Infrastructure;

namespace ChatKit.Core.Tests.Backplane;

/// <summary>
/// What every <see cref="IChatBackplane"/> must do for the node it serves. The in-memory backplane runs it here;
/// each cross-node backplane runs it against its real server by deriving from this class (and adds what only
/// several nodes can show).
/// </summary>
public abstract class ChatBackplaneSpecification
{
    /// <summary>A backplane for one node whose connections are described by <paramref name="receiver"/>.</summary>
    private protected abstract Task<IChatBackplane> CreateNodeAsync(RecordingReceiver receiver);

    [Fact(Timeout = 30_000)]
    public async Task A_rooms_frames_reach_a_node_with_connections_in_it_in_the_order_published()
    {
        var node = new RecordingReceiver();
        node.Rooms["r1"] = true;
        var backplane = await CreateNodeAsync(node);
        await backplane.SubscribeRoomAsync("r1", CancellationToken.None);

        for (var seq = 1; seq <= 50; seq++)
        {
            await backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r1", "r1", seq, Encoding.UTF8.GetBytes($"frame {seq}")), CancellationToken.None);
        }

        var received = await node.UntilAsync(m => m.Sequence == 50);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), received.Select(m => m.Sequence));
        Assert.All(received, m => Assert.Equal(($"frame {m.Sequence}", BackplaneMessageKind.RoomFrame, "r1"), (Encoding.UTF8.GetString(m.Frame.Span), m.Kind, m.Target)));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_users_frames_and_membership_changes_reach_the_node_where_the_user_is_unchanged()
    {
        var node = new RecordingReceiver();
        node.Users["bob"] = true;
        var backplane = await CreateNodeAsync(node);
        await backplane.SubscribeUserAsync("bob", CancellationToken.None);
        var sent = new[]
        {
            new BackplaneMessage(BackplaneMessageKind.UserFrame, "bob", null, 0, "{\"type\":\"presence\"}"u8.ToArray()),
            new BackplaneMessage(BackplaneMessageKind.RoomJoined, "bob", "r2", 41, "{\"type\":\"room.added\"}"u8.ToArray()),
            new BackplaneMessage(BackplaneMessageKind.RoomLeft, "bob", "r2", 0, "{\"type\":\"room.removed\",\"by\":\"é\"}"u8.ToArray()),
        };

        foreach (var message in sent)
        {
            await backplane.PublishAsync(message, CancellationToken.None);
        }

        var received = new[] { await node.NextAsync(), await node.NextAsync(), await node.NextAsync() };
        Assert.Equal(
            sent.Select(m => (m.Kind, m.Target, m.RoomId, m.Sequence, Encoding.UTF8.GetString(m.Frame.Span))),
            received.Select(m => (m.Kind, m.Target, m.RoomId, m.Sequence, Encoding.UTF8.GetString(m.Frame.Span))));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_publish_reaches_the_publishing_nodes_own_connections_before_it_returns()
    {
        var node = new RecordingReceiver();
        node.Rooms["r3"] = true;
        var backplane = await CreateNodeAsync(node);
        await backplane.SubscribeRoomAsync("r3", CancellationToken.None);

        await backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r3", "r3", 1, "one"u8.ToArray()), CancellationToken.None);

        Assert.True(node.TryTake(out var message));
        Assert.Equal(1, message.Sequence);
    }
}
