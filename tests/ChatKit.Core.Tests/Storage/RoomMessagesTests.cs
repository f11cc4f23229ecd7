using ChatKit.Storage;

namespace ChatKit.Core.Tests.Storage;

/// <summary>
/// The in-memory store's message archive and room index, on what the store specification cannot reach. The work runs on
/// the thread pool so that the timeout holds.
/// </summary>
public sealed class RoomMessagesTests
{
    [Fact(Timeout = 10_000)]
    public Task Any_string_and_any_offset_come_back_as_they_went_in() => Task.Run(() =>
    {
        var messages = new RoomMessages(new MessageArchive(), "room");
        var sentAt = new DateTimeOffset(2026, 12, 7, 19, 30, 15, 123, TimeSpan.FromHours(5.5)).AddTicks(4567);
        string[] bodies = ["", "plain", "\ud800 a lone surrogate", "emoji \U0001F600 and \u00e9", new string('x', 9)];
        foreach (var body in bodies)
        {
            messages.Add($"cmid-{body.Length}-{messages.Count}", "", body, sentAt);
        }

        var read = messages.Get(1, bodies.Length);
        Assert.Equal(bodies, read.Select(m => m.Body));
        Assert.All(read, m => Assert.Equal(sentAt, m.SentAt));
        Assert.All(read, m => Assert.Equal(sentAt.Offset, m.SentAt.Offset));
        Assert.All(read, m => Assert.Equal("", m.SenderId));
        Assert.Equal([1L, 2, 3, 4, 5], read.Select(m => m.Sequence));
        Assert.Equal($"cmid-{bodies[2].Length}-2", messages.Get(3).ClientMessageId);
    });

    [Fact(Timeout = 10_000)]
    public Task Messages_fill_many_chunks_and_one_larger_than_a_chunk_gets_its_own() => Task.Run(() =>
    {
        var archive = new MessageArchive();
        var a = new RoomMessages(archive, "a");
        var b = new RoomMessages(archive, "b");
        var large = new string('L', MessageArchive.ChunkSize);
        var body = new string('m', 1000);

        // About 2 KB each: several chunks' worth, the rooms interleaved, and the large one in the middle.
        for (var i = 0; i < 2000; i++)
        {
            (i % 2 == 0 ? a : b).Add($"c{i}", $"user{i % 7}", i == 999 ? large : body + i, DateTimeOffset.UnixEpoch.AddSeconds(i));
        }

        Assert.Equal(1000, a.Count);
        Assert.Equal(1000, b.Count);
        Assert.Equal(large, b.Get(500).Body);
        for (var i = 0; i < 2000; i++)
        {
            var message = (i % 2 == 0 ? a : b).Get((i / 2) + 1);
            Assert.Equal((i % 2 == 0 ? "a" : "b", $"c{i}", $"user{i % 7}", i == 999 ? large : body + i), (message.RoomId, message.ClientMessageId, message.SenderId, message.Body));
            Assert.Equal(i, message.SentAt.ToUnixTimeSeconds());
        }
    });

    [Fact(Timeout = 10_000)]
    public Task Client_ids_whose_hashes_are_the_same_are_still_told_apart() => Task.Run(() =>
    {
        var messages = new RoomMessages(new MessageArchive(), "room", hash: _ => 42);
        Assert.Equal(1, messages.Add("first", "alice", "one", DateTimeOffset.UnixEpoch));
        Assert.Equal(2, messages.Add("second", "alice", "two", DateTimeOffset.UnixEpoch));
        Assert.Equal(3, messages.Add("third", "alice", "three", DateTimeOffset.UnixEpoch));

        Assert.Equal(1, messages.Find("first"));
        Assert.Equal(2, messages.Find("second"));
        Assert.Equal(3, messages.Find("third"));
        Assert.Equal(0, messages.Find("fourth"));
    });
}
