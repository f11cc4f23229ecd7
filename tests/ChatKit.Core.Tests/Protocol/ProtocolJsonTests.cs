using System.Text;
using ChatKit.Protocol;

namespace ChatKit.Core.Tests.Protocol;

/// <summary>The hand-written frames of the send path against what the serializer gives for the same frame.</summary>
public sealed class ProtocolJsonTests
{
    public static TheoryData<string?, string?> Texts => new()
    {
        { "c1", "hello" },
        { null, "no client id" },
        { "quote\"back\\slash", "line\nbreak\ttab\u0001control" },
        { "<b>&amp;+'", "é 中文 👋 \u2028" },
        { "lone\ud800surrogate", string.Empty },
        { "c2", null },
    };

    private static readonly DateTimeOffset[] Times =
    [
        new DateTimeOffset(2026, 12, 7, 13, 26, 55, TimeSpan.Zero),
        new DateTimeOffset(2026, 12, 7, 13, 26, 55, TimeSpan.Zero).AddTicks(1_234_567),
        new DateTimeOffset(1999, 1, 2, 3, 4, 5, 600, TimeSpan.FromMinutes(330)),
        DateTimeOffset.MaxValue,
    ];

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Texts))]
    public async Task A_message_event_is_byte_for_byte_what_the_serializer_writes(string? cmid, string? body)
    {
        await Task.Yield();
        foreach (var sentAt in Times)
        {
            var expected = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.Message, Room = "r_1", Seq = long.MaxValue, Cmid = cmid, Sender = "alice", Body = body, SentAt = sentAt });

            var written = ProtocolJson.SerializeMessageEvent("r_1", long.MaxValue, cmid, "alice", body, sentAt);

            Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(written));
            Assert.Equal(expected, written);
        }
    }

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Texts))]
    public async Task A_send_reply_is_byte_for_byte_what_the_serializer_writes(string? cmid, string? id)
    {
        await Task.Yield();
        foreach (var (sentAt, duplicate) in Times.Zip([true, false, true, false]))
        {
            var re = id ?? "request-1";
            var expected = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.Reply, Re = re, Room = "r_1", Seq = 1, Cmid = cmid, SentAt = sentAt, Duplicate = duplicate });

            var written = ProtocolJson.SerializeSendReply(re, "r_1", 1, cmid, sentAt, duplicate);

            Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(written));
            Assert.Equal(expected, written);
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task A_large_body_after_small_frames_on_the_same_thread_is_written_whole()
    {
        await Task.Yield();
        var body = new string('x', 200_000);
        var small = ProtocolJson.SerializeMessageEvent("r", 1, "c", "alice", "small", DateTimeOffset.UnixEpoch);

        var large = ProtocolJson.SerializeMessageEvent("r", 2, "c", "alice", body, DateTimeOffset.UnixEpoch);
        var again = ProtocolJson.SerializeMessageEvent("r", 1, "c", "alice", "small", DateTimeOffset.UnixEpoch);

        Assert.Equal(body, ProtocolJson.ParseServerFrame(large)!.Body);
        Assert.Equal(small, again);
    }
}
