using System.Text;

namespace ChatKit.Backplane.Redis.Tests;

/// <summary>The envelope that carries backplane traffic through Redis, on its own (no Redis needed).</summary>
public sealed class RedisEnvelopeTests
{
    private static readonly byte[] NodeA = RedisEnvelope.Origin("host-a-0123456789abcdef");
    private static readonly byte[] NodeB = RedisEnvelope.Origin("host-b-0123456789abcdef");

    public static TheoryData<BackplaneMessageKind, string, string?, long> Messages => new()
    {
        { BackplaneMessageKind.RoomFrame, "room-\u00e9\U0001F600", null, 42 },
        { BackplaneMessageKind.UserFrame, "user-1", null, 0 },
        { BackplaneMessageKind.RoomJoined, "user-2", "room-7", long.MaxValue },
        { BackplaneMessageKind.RoomLeft, "user-3", "room-8", 0 },
    };

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Messages))]
    public async Task A_message_from_another_node_reads_back_as_it_was_sent(BackplaneMessageKind kind, string target, string? roomId, long sequence)
    {
        await Task.Yield();
        var frame = Encoding.UTF8.GetBytes("""{"type":"message","body":"h\u00e9llo"}""");
        var bytes = RedisEnvelope.Encode(NodeA, new BackplaneMessage(kind, target, roomId, sequence, frame));

        var outcome = RedisEnvelope.Read(bytes, NodeB, out var message);

        Assert.Equal(RedisEnvelope.Outcome.Message, outcome);
        Assert.NotNull(message);
        Assert.Equal(kind, message.Kind);
        Assert.Equal(target, message.Target);
        Assert.Equal(roomId, message.RoomId);
        Assert.Equal(sequence, message.Sequence);
        Assert.Equal(frame, message.Frame.ToArray());
    }

    [Fact(Timeout = 10_000)]
    public async Task A_nodes_own_envelope_is_recognised_and_not_decoded()
    {
        await Task.Yield();
        var bytes = RedisEnvelope.Encode(NodeA, new BackplaneMessage(BackplaneMessageKind.RoomFrame, "room-1", null, 5, "{}"u8.ToArray()));

        var outcome = RedisEnvelope.Read(bytes, NodeA, out var message);

        Assert.Equal(RedisEnvelope.Outcome.Own, outcome);
        Assert.Null(message);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_node_id_that_starts_another_is_not_taken_for_it()
    {
        await Task.Yield();
        var bytes = RedisEnvelope.Encode(RedisEnvelope.Origin("node-1"), new BackplaneMessage(BackplaneMessageKind.RoomFrame, "room-1", null, 5, "{}"u8.ToArray()));

        Assert.Equal(RedisEnvelope.Outcome.Message, RedisEnvelope.Read(bytes, RedisEnvelope.Origin("node-10"), out _));
        Assert.Equal(RedisEnvelope.Outcome.Message, RedisEnvelope.Read(bytes, RedisEnvelope.Origin("node-"), out _));
    }

    [Fact(Timeout = 10_000)]
    public async Task Cut_short_or_foreign_bytes_are_unreadable()
    {
        await Task.Yield();
        var bytes = RedisEnvelope.Encode(NodeA, new BackplaneMessage(BackplaneMessageKind.RoomJoined, "user-1", "room-1", 3, ReadOnlyMemory<byte>.Empty));

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Equal(RedisEnvelope.Outcome.Unreadable, RedisEnvelope.Read(bytes[..length], NodeB, out var message));
            Assert.Null(message);
        }

        Assert.Equal(RedisEnvelope.Outcome.Message, RedisEnvelope.Read(bytes, NodeB, out _));
        var otherVersion = bytes.ToArray();
        otherVersion[0] = 2;
        Assert.Equal(RedisEnvelope.Outcome.Unreadable, RedisEnvelope.Read(otherVersion, NodeB, out _));
        var unknownKind = bytes.ToArray();
        unknownKind[1] = 9;
        Assert.Equal(RedisEnvelope.Outcome.Unreadable, RedisEnvelope.Read(unknownKind, NodeB, out _));
        Assert.Equal(RedisEnvelope.Outcome.Unreadable, RedisEnvelope.Read("not an envelope at all"u8.ToArray(), NodeB, out _));
    }
}
