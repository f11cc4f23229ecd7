using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests;

public sealed class PresenceAndTypingTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_user_is_online_while_any_tab_is_open_and_goes_offline_once_with_last_seen()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "friends", Members = ["bob"] });

        var tab1 = await RawChatClient.ConnectAsync(server, "bob");
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "bob" && e.Online == true);
        var tab2 = await RawChatClient.ConnectAsync(server, "bob");
        await tab1.DisposeAsync();

        var during = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob", "nobody"] });
        Assert.True(during.Presence!.Single(p => p.User == "bob").Online);
        Assert.False(during.Presence!.Single(p => p.User == "nobody").Online);
        Assert.Null(during.Presence!.Single(p => p.User == "nobody").LastSeen);

        await tab2.DisposeAsync();
        var offline = await alice.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "bob" && e.Online == false);
        Assert.NotNull(offline.LastSeen);

        var bobEvents = alice.Events.Where(e => e.Type == FrameTypes.Presence && e.User == "bob").Select(e => e.Online).ToList();
        Assert.Equal([true, false], bobEvents);
        var after = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob"] });
        Assert.False(after.Presence![0].Online);
        Assert.Equal(offline.LastSeen, after.Presence![0].LastSeen);

        var search = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.UsersSearch, Query = "b" });
        var bob = Assert.Single(search.Users!);
        Assert.Equal("Name of bob", bob.Name);
        Assert.False(bob.Online);
    }

    [Fact(Timeout = 60_000)]
    public async Task Typing_is_announced_and_expires_by_itself()
    {
        await using var server = await ChatTestServer.StartAsync(o => o.TypingTimeout = TimeSpan.FromMilliseconds(300));
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "typing", Members = ["bob"] })).Info!;
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded);

        await bob.RequestAsync(new ClientFrame { Type = FrameTypes.Typing, Room = room.Id });

        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Typing && e.User == "bob" && e.Active == true);
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Typing && e.User == "bob" && e.Active == false);
        Assert.Equal([true, false], alice.Events.Where(e => e.Type == FrameTypes.Typing).Select(e => e.Active));
    }

    [Fact(Timeout = 60_000)]
    public async Task Sending_a_message_ends_the_typing_indicator_at_once()
    {
        await using var server = await ChatTestServer.StartAsync(o => o.TypingTimeout = TimeSpan.FromMinutes(5));
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "typing", Members = ["bob"] })).Info!;

        await bob.RequestAsync(new ClientFrame { Type = FrameTypes.Typing, Room = room.Id, Active = true });
        await bob.RequestAsync(new ClientFrame { Type = FrameTypes.Typing, Room = room.Id, Active = true });
        await bob.SendAsync(room.Id, "done typing");

        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Typing && e.Active == false);
        var order = alice.Events.Where(e => e.Type is FrameTypes.Typing or FrameTypes.Message).Select(e => e.Type + ":" + e.Active).ToList();
        Assert.Equal(["typing:True", "message:", "typing:False"], order);
    }
}
