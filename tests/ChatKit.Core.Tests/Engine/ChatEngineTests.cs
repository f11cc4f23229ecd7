using ChatKit.Core.Tests.Infrastructure;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;

namespace ChatKit.Core.Tests.Engine;

public sealed class ChatEngineTests
{
    private static readonly ChatUser Alice = new("alice", "Alice");
    private static readonly ChatUser Bob = new("bob", "Bob");

    [Fact(Timeout = 30_000)]
    public async Task Typing_ends_when_its_timeout_passes_without_a_repeat()
    {
        var backplane = new CapturingBackplane();
        using var harness = new CoreHarness(o => o.TypingTimeout = TimeSpan.FromSeconds(5), backplane);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);

        await harness.Engine.SetTypingAsync(Bob, room.Id, active: true, CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromSeconds(4));
        await harness.Engine.SetTypingAsync(Bob, room.Id, active: true, CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromSeconds(4));
        await harness.Engine.ExpireTypingAsync(CancellationToken.None);
        Assert.Equal([true], backplane.Frames(FrameTypes.Typing).Select(f => f.Active!.Value));

        harness.Time.Advance(TimeSpan.FromSeconds(1));
        await harness.Engine.ExpireTypingAsync(CancellationToken.None);
        Assert.Equal([true, false], backplane.Frames(FrameTypes.Typing).Select(f => f.Active!.Value));
    }

    [Theory]
    [InlineData(null, "x", ChatErrorCodes.MissingField)]
    [InlineData("bad id!", "x", ChatErrorCodes.InvalidField)]
    [InlineData("ok", null, ChatErrorCodes.MissingField)]
    [InlineData("ok", "", ChatErrorCodes.MissingField)]
    public async Task Sends_with_bad_fields_are_refused_before_anything_is_stored(string? cmid, string? body, string code)
    {
        using var harness = new CoreHarness();
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, null, encrypted: false, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ChatException>(() => harness.Engine.SendAsync(Alice, room.Id, cmid, body, CancellationToken.None));

        Assert.Equal(code, error.Code);
        Assert.Equal(0, await harness.Store.GetLatestSequenceAsync(room.Id, CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_body_over_the_byte_limit_counts_utf8_bytes_not_characters()
    {
        using var harness = new CoreHarness(o => o.MaxMessageBytes = 10);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, null, encrypted: false, CancellationToken.None);

        await harness.Engine.SendAsync(Alice, room.Id, "fits", "0123456789", CancellationToken.None);
        var error = await Assert.ThrowsAsync<ChatException>(() => harness.Engine.SendAsync(Alice, room.Id, "over", "ééééééé", CancellationToken.None));

        Assert.Equal(ChatErrorCodes.MessageTooLarge, error.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task Room_fields_are_checked_before_they_reach_the_store()
    {
        using var harness = new CoreHarness(o => o.MaxRoomNameLength = 5);

        Assert.Equal(ChatErrorCodes.InvalidField, (await Assert.ThrowsAsync<ChatException>(() => harness.Engine.CreateRoomAsync(Alice, "too long", null, null, encrypted: false, CancellationToken.None))).Code);
        Assert.Equal(ChatErrorCodes.MissingField, (await Assert.ThrowsAsync<ChatException>(() => harness.Engine.CreateRoomAsync(Alice, "   ", null, null, encrypted: false, CancellationToken.None))).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await Assert.ThrowsAsync<ChatException>(() => harness.Engine.CreateRoomAsync(Alice, "ok", "secret", null, encrypted: false, CancellationToken.None))).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await Assert.ThrowsAsync<ChatException>(() => harness.Engine.CreateRoomAsync(Alice, "ok", null, Enumerable.Range(0, 101).Select(i => $"u{i}").ToList(), encrypted: false, CancellationToken.None))).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await Assert.ThrowsAsync<ChatException>(() => harness.Engine.GetHistoryAsync(Alice, new string('r', 65), null, null, null, CancellationToken.None))).Code);
        Assert.Equal(ChatErrorCodes.InvalidField, (await Assert.ThrowsAsync<ChatException>(() => harness.Engine.OpenDirectAsync(Alice, "bad\nuser", encrypted: false, CancellationToken.None))).Code);
    }

    [Theory]
    [InlineData(RoomAction.Read, null, null, false)]
    [InlineData(RoomAction.Read, MemberRole.Member, null, true)]
    [InlineData(RoomAction.Invite, MemberRole.Member, null, false)]
    [InlineData(RoomAction.Invite, MemberRole.Admin, MemberRole.Member, true)]
    [InlineData(RoomAction.Invite, MemberRole.Admin, MemberRole.Admin, false)]
    [InlineData(RoomAction.Invite, MemberRole.Owner, MemberRole.Admin, true)]
    [InlineData(RoomAction.Leave, MemberRole.Owner, null, false)]
    [InlineData(RoomAction.Leave, MemberRole.Admin, null, true)]
    public async Task The_default_authorizer_follows_the_roles(RoomAction action, MemberRole? role, MemberRole? targetRole, bool allowed)
    {
        var room = new Room("r", RoomKind.Group, "r", RoomVisibility.Private, "alice", DateTimeOffset.UnixEpoch);
        var membership = role is null ? null : new RoomMember("r", "bob", role.Value, DateTimeOffset.UnixEpoch);

        var result = await new MembershipRoomAuthorizer().AuthorizeAsync(new RoomAccessContext(Bob, room, membership, action, "carol", TargetRole: targetRole), CancellationToken.None);

        Assert.Equal(allowed, result);
    }

    [Theory]
    [InlineData(MemberRole.Owner, MemberRole.Admin, true)]
    [InlineData(MemberRole.Admin, MemberRole.Admin, false)]
    [InlineData(MemberRole.Admin, MemberRole.Member, true)]
    [InlineData(MemberRole.Owner, MemberRole.Owner, false)]
    [InlineData(MemberRole.Member, MemberRole.Member, false)]
    public async Task The_default_authorizer_protects_owners_and_admins_from_removal(MemberRole actor, MemberRole target, bool allowed)
    {
        var room = new Room("r", RoomKind.Group, "r", RoomVisibility.Private, "alice", DateTimeOffset.UnixEpoch);
        var context = new RoomAccessContext(
            Bob,
            room,
            new RoomMember("r", "bob", actor, DateTimeOffset.UnixEpoch),
            RoomAction.Remove,
            "carol",
            new RoomMember("r", "carol", target, DateTimeOffset.UnixEpoch));

        Assert.Equal(allowed, await new MembershipRoomAuthorizer().AuthorizeAsync(context, CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_message_id_another_sender_already_used_is_refused_not_swallowed()
    {
        using var harness = new CoreHarness();
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        await harness.Engine.SendAsync(Alice, room.Id, "1", "alice's", CancellationToken.None);

        var error = await Assert.ThrowsAsync<ChatException>(() => harness.Engine.SendAsync(Bob, room.Id, "1", "bob's", CancellationToken.None));

        Assert.Equal(ChatErrorCodes.InvalidField, error.Code);
        Assert.True((await harness.Engine.SendAsync(Alice, room.Id, "1", "alice's retry", CancellationToken.None)).Duplicate);
    }

    [Fact(Timeout = 30_000)]
    public async Task History_pages_stay_within_a_quarter_of_the_outbound_limit_and_say_more_is_there()
    {
        using var harness = new CoreHarness(o => o.MaxOutboundBufferBytes = 64 * 1024);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, null, encrypted: false, CancellationToken.None);
        for (var i = 1; i <= 20; i++)
        {
            await harness.Engine.SendAsync(Alice, room.Id, $"c{i}", new string('<', 4000), CancellationToken.None);
        }

        var newest = await harness.Engine.GetHistoryAsync(Alice, room.Id, null, null, 20, CancellationToken.None);
        var oldest = await harness.Engine.GetHistoryAsync(Alice, room.Id, null, 0, 20, CancellationToken.None);

        Assert.Equal([18L, 19L, 20L], newest.Messages.Select(m => m.Seq));
        Assert.True(newest.HasMore);
        Assert.Equal([1L, 2L, 3L], oldest.Messages.Select(m => m.Seq));
        Assert.True(oldest.HasMore);
        Assert.InRange(ProtocolJson.Serialize(new ServerFrame { Messages = newest.Messages }).Length, 1, 16 * 1024 + 4 * 4000);
    }

    [Fact]
    public void Frames_are_not_inflated_by_html_escaping()
    {
        var body = new string('<', 1000) + "é&+";

        var frame = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.Message, Body = body });

        Assert.InRange(frame.Length, body.Length, body.Length + 64);
        Assert.Equal(body, ProtocolJson.ParseServerFrame(frame)!.Body);
    }
}
