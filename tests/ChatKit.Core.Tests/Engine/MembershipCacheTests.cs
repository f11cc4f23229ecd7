using ChatKit.Backplane;
using ChatKit.Core.Tests.Infrastructure;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;

namespace ChatKit.Core.Tests.Engine;

public sealed class MembershipCacheTests
{
    private static readonly ChatUser Alice = new("alice", "Alice");
    private static readonly ChatUser Bob = new("bob", "Bob");

    [Fact(Timeout = 30_000)]
    public async Task Repeated_sends_read_the_membership_from_the_store_once()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);

        var before = store.MemberReads;
        for (var i = 0; i < 5; i++)
        {
            await harness.Engine.SendAsync(Bob, room.Id, $"m{i}", "hello", CancellationToken.None);
        }

        Assert.Equal(1, store.MemberReads - before);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_removed_member_is_refused_at_once_although_their_membership_was_remembered()
    {
        using var harness = new CoreHarness();
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        await harness.Engine.SendAsync(Bob, room.Id, "m1", "hello", CancellationToken.None);

        await harness.Engine.RemoveMemberAsync(Alice, room.Id, "bob", CancellationToken.None);
        var error = await Assert.ThrowsAsync<ChatException>(() => harness.Engine.SendAsync(Bob, room.Id, "m2", "still here?", CancellationToken.None));

        Assert.Equal(ChatErrorCodes.Forbidden, error.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_removal_reported_by_the_backplane_from_another_node_is_effective_at_once()
    {
        using var harness = new CoreHarness();
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        await harness.Engine.SendAsync(Bob, room.Id, "m1", "hello", CancellationToken.None);

        // Another node removed Bob: the shared store changed and its event arrived through the backplane.
        await harness.Store.RemoveMemberAsync(room.Id, "bob", CancellationToken.None);
        harness.Registry.Receive(new BackplaneMessage(BackplaneMessageKind.RoomLeft, "bob", room.Id, 0, ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.RoomRemoved, Room = room.Id })));
        var error = await Assert.ThrowsAsync<ChatException>(() => harness.Engine.GetHistoryAsync(Bob, room.Id, null, null, null, CancellationToken.None));

        Assert.Equal(ChatErrorCodes.Forbidden, error.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_removal_nobody_reported_takes_effect_when_the_cache_duration_passes()
    {
        using var harness = new CoreHarness(o => o.MembershipCacheDuration = TimeSpan.FromSeconds(30));
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        await harness.Engine.SendAsync(Bob, room.Id, "m1", "hello", CancellationToken.None);
        await harness.Store.RemoveMemberAsync(room.Id, "bob", CancellationToken.None);

        harness.Time.Advance(TimeSpan.FromSeconds(29));
        await harness.Engine.SendAsync(Bob, room.Id, "m2", "inside the documented window", CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        var error = await Assert.ThrowsAsync<ChatException>(() => harness.Engine.SendAsync(Bob, room.Id, "m3", "after it", CancellationToken.None));

        Assert.Equal(ChatErrorCodes.Forbidden, error.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task With_the_cache_off_a_removal_behind_the_engines_back_takes_effect_at_once()
    {
        using var harness = new CoreHarness(o => o.MembershipCacheDuration = TimeSpan.Zero);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        await harness.Engine.SendAsync(Bob, room.Id, "m1", "hello", CancellationToken.None);

        await harness.Store.RemoveMemberAsync(room.Id, "bob", CancellationToken.None);
        var error = await Assert.ThrowsAsync<ChatException>(() => harness.Engine.SendAsync(Bob, room.Id, "m2", "gone", CancellationToken.None));

        Assert.Equal(ChatErrorCodes.Forbidden, error.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_membership_loaded_while_a_removal_ran_is_not_remembered()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);

        // Bob's first send reads his membership; before that read returns, Alice removes him.
        store.AfterMemberRead = _ => new ValueTask(harness.Engine.RemoveMemberAsync(Alice, room.Id, "bob", CancellationToken.None));
        await harness.Engine.SendAsync(Bob, room.Id, "m1", "sent as the removal ran", CancellationToken.None);
        var error = await Assert.ThrowsAsync<ChatException>(() => harness.Engine.SendAsync(Bob, room.Id, "m2", "after it", CancellationToken.None));

        Assert.Equal(ChatErrorCodes.Forbidden, error.Code);
    }

    [Fact]
    public void A_negative_cache_duration_is_refused_at_start_naming_the_key()
    {
        var result = new ChatKitOptionsValidator().Validate(null, new ChatKitOptions { MembershipCacheDuration = TimeSpan.FromSeconds(-1) });

        Assert.True(result.Failed);
        Assert.Contains("ChatKit:MembershipCacheDuration", result.FailureMessage, StringComparison.Ordinal);
    }
}
