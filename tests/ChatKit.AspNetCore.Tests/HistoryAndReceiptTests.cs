using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests;

public sealed class HistoryAndReceiptTests
{
    [Fact(Timeout = 60_000)]
    public async Task History_pages_backwards_and_forwards_in_order_within_the_page_limit()
    {
        await using var server = await ChatTestServer.StartAsync(o =>
        {
            o.MaxHistoryPageSize = 20;
            o.DefaultHistoryPageSize = 10;
        });
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "history" })).Info!;
        for (var i = 1; i <= 25; i++)
        {
            await alice.SendAsync(room.Id, $"m{i}");
        }

        async Task<(string Seqs, bool More)> Page(long? before = null, long? after = null, int? limit = 10)
        {
            var page = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = room.Id, Before = before, After = after, Limit = limit });
            return (string.Join(',', page.Messages!.Select(m => m.Seq)), page.HasMore!.Value);
        }

        static string Range(int from, int to) => string.Join(',', Enumerable.Range(from, to - from + 1));

        Assert.Equal((Range(16, 25), true), await Page());
        Assert.Equal((Range(6, 15), true), await Page(before: 16));
        Assert.Equal((Range(1, 5), false), await Page(before: 6));
        Assert.Equal((Range(1, 10), true), await Page(after: 0));
        Assert.Equal((Range(21, 25), false), await Page(after: 20));
        Assert.Equal((Range(11, 14), false), await Page(after: 10, before: 15));
        Assert.Equal((Range(6, 25), false), (await Page(after: 5, limit: 20)));
        Assert.Equal(ChatErrorCodes.InvalidField, (await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.History, Room = room.Id, Limit = 21 })).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.History, Room = room.Id, Limit = 0 })).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.History, Room = room.Id, Before = 0 })).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Receipts_move_forward_only_reach_the_room_and_drive_unread_counts()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "receipts", Members = ["bob"] })).Info!;
        for (var i = 1; i <= 3; i++)
        {
            await alice.SendAsync(room.Id, $"m{i}");
        }

        var bobsRoom = (await bob.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsList })).Rooms!.Single(r => r.Id == room.Id);
        Assert.Equal(3, bobsRoom.Unread);
        Assert.Equal(0, (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsList })).Rooms!.Single(r => r.Id == room.Id).Unread);

        var delivered = await bob.RequestAsync(new ClientFrame { Type = FrameTypes.Receipt, Room = room.Id, Seq = 3, Kind = "delivered" });
        Assert.Equal((3L, 0L, 3L), (delivered.DeliveredSeq!.Value, delivered.ReadSeq!.Value, delivered.Unread!.Value));
        var read = await bob.RequestAsync(new ClientFrame { Type = FrameTypes.Receipt, Room = room.Id, Seq = 2, Kind = "read" });
        Assert.Equal((2L, 1L), (read.ReadSeq!.Value, read.Unread!.Value));
        var backwards = await bob.RequestAsync(new ClientFrame { Type = FrameTypes.Receipt, Room = room.Id, Seq = 1, Kind = "read" });
        Assert.Equal(2L, backwards.ReadSeq);

        var seen = await alice.WaitForEventAsync(e => e.Type == FrameTypes.Receipt && e.User == "bob" && e.Kind == "read");
        Assert.Equal(2, seen.Seq);
        var bobAsMember = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.MembersList, Room = room.Id })).Members!.Single(m => m.User == "bob");
        Assert.Equal((2L, 3L), (bobAsMember.ReadSeq!.Value, bobAsMember.DeliveredSeq!.Value));

        // The backwards receipt told no one: events queued before the reply above have all been read by now.
        Assert.Single(alice.Events, e => e.Type == FrameTypes.Receipt && e.Kind == "read");
        Assert.Equal(ChatErrorCodes.InvalidSequence, (await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Receipt, Room = room.Id, Seq = 4, Kind = "read" })).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Receipt, Room = room.Id, Seq = 1, Kind = "seen" })).Code);
        Assert.Equal(ChatErrorCodes.MissingField, (await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Receipt, Room = room.Id, Kind = "read" })).Code);

        await bob.SendAsync(room.Id, "reply");
        Assert.Equal(0, (await bob.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsList })).Rooms!.Single(r => r.Id == room.Id).Unread);
        Assert.Equal(1, (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsList })).Rooms!.Single(r => r.Id == room.Id).Unread);
    }
}
