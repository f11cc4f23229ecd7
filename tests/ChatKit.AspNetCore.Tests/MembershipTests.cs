using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests;

public sealed class MembershipTests
{
    [Fact(Timeout = 60_000)]
    public async Task Owners_and_admins_manage_members_and_everyone_else_is_refused()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        await using var carol = await RawChatClient.ConnectAsync(server, "carol");
        await using var dave = await RawChatClient.ConnectAsync(server, "dave");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "team" })).Info!;

        Assert.Equal(ChatErrorCodes.Forbidden, (await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.RoomsJoin, Room = room.Id })).Code);
        var invited = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.MembersInvite, Room = room.Id, User = "bob" });
        Assert.Equal("member", invited.Member!.Role);
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == room.Id);
        var joined = await alice.WaitForEventAsync(e => e.Type == FrameTypes.MemberJoined && e.Member!.User == "bob");
        Assert.Equal("Name of bob", joined.Member!.Name);

        Assert.Equal(ChatErrorCodes.Forbidden, (await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.MembersInvite, Room = room.Id, User = "carol" })).Code);
        await alice.RequestAsync(new ClientFrame { Type = FrameTypes.MembersInvite, Room = room.Id, User = "carol", Role = "admin" });
        await carol.RequestAsync(new ClientFrame { Type = FrameTypes.MembersInvite, Room = room.Id, User = "dave" });
        Assert.Equal(ChatErrorCodes.Forbidden, (await carol.RequestErrorAsync(new ClientFrame { Type = FrameTypes.MembersInvite, Room = room.Id, User = "erin", Role = "admin" })).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.MembersInvite, Room = room.Id, User = "erin", Role = "owner" })).Code);

        var members = await bob.RequestAsync(new ClientFrame { Type = FrameTypes.MembersList, Room = room.Id });
        Assert.Equal(["alice:owner", "bob:member", "carol:admin", "dave:member"], members.Members!.Select(m => m.User + ":" + m.Role));

        await carol.RequestAsync(new ClientFrame { Type = FrameTypes.MembersRemove, Room = room.Id, User = "dave" });
        var removed = await dave.WaitForEventAsync(e => e.Type == FrameTypes.RoomRemoved && e.Room == room.Id);
        Assert.Equal("removed", removed.Reason);
        Assert.Equal("carol", removed.By);
        Assert.Equal(ChatErrorCodes.Forbidden, (await carol.RequestErrorAsync(new ClientFrame { Type = FrameTypes.MembersRemove, Room = room.Id, User = "alice" })).Code);
        Assert.Equal(ChatErrorCodes.Forbidden, (await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.MembersRemove, Room = room.Id, User = "carol" })).Code);
        Assert.Equal(ChatErrorCodes.Forbidden, (await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.RoomsLeave, Room = room.Id })).Code);

        await bob.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsLeave, Room = room.Id });
        var left = await alice.WaitForEventAsync(e => e.Type == FrameTypes.MemberLeft && e.User == "bob");
        Assert.Equal("left", left.Reason);
        Assert.Equal(ChatErrorCodes.Forbidden, (await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Send, Room = room.Id, Cmid = "x", Body = "x" })).Code);

        // Former members get nothing more from the room: a later message in a room they are in arrives, the room's does not.
        var direct = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = "bob" })).Info!;
        await alice.SendAsync(room.Id, "members only");
        await alice.SendAsync(direct.Id, "just for bob");
        await bob.WaitForMessagesAsync(direct.Id, 1);
        Assert.Empty(bob.MessagesOf(room.Id));
        Assert.Equal(["members only"], (await carol.WaitForMessagesAsync(room.Id, 1)).Select(m => m.Body));
        Assert.DoesNotContain((await bob.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsList })).Rooms!, r => r.Id == room.Id);
    }

    [Fact(Timeout = 60_000)]
    public async Task Anyone_joins_a_public_room_and_direct_conversations_keep_their_two_members()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var lobby = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "lobby", Visibility = "public" })).Info!;
        await alice.SendAsync(lobby.Id, "earlier");

        var listed = await bob.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsPublic });
        Assert.Null(Assert.Single(listed.Rooms!).Role);
        var joined = (await bob.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsJoin, Room = lobby.Id })).Info!;
        Assert.Equal("member", joined.Role);
        Assert.Equal(0, joined.Unread);
        Assert.Equal(1, joined.LatestSeq);
        var again = (await bob.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsJoin, Room = lobby.Id })).Info!;
        Assert.Equal(lobby.Id, again.Id);
        await alice.SendAsync(lobby.Id, "welcome bob");
        Assert.Equal("welcome bob", Assert.Single(await bob.WaitForMessagesAsync(lobby.Id, 1)).Body);

        var direct = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = "bob" })).Info!;
        Assert.Equal(ChatErrorCodes.DirectRoom, (await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.MembersInvite, Room = direct.Id, User = "carol" })).Code);
        Assert.Equal(ChatErrorCodes.DirectRoom, (await bob.RequestErrorAsync(new ClientFrame { Type = FrameTypes.RoomsLeave, Room = direct.Id })).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = "alice" })).Code);
    }
}
