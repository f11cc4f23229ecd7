using ChatKit.Model;
using ChatKit.Storage;

namespace ChatKit.Core.Tests.Storage;

/// <summary>
/// What every <see cref="IChatStore"/> must do. The in-memory store runs it here; each storage adapter runs it
/// against its own database by deriving from this class.
/// </summary>
public abstract class ChatStoreSpecification
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected abstract Task<IChatStore> CreateStoreAsync();

    [Fact(Timeout = 30_000)]
    public async Task Appends_get_gap_free_sequences_per_room_even_when_concurrent()
    {
        var store = await CreateStoreAsync();
        var a = await CreateRoomAsync(store, "a", "alice");
        var b = await CreateRoomAsync(store, "b", "alice");

        var appends = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
            await store.AppendMessageAsync(new NewMessage(i % 2 == 0 ? a : b, $"c{i}", "alice", $"body {i}", Now), CancellationToken.None)));
        var results = await Task.WhenAll(appends);

        foreach (var room in new[] { a, b })
        {
            var sequences = results.Where(r => r.Message.RoomId == room).Select(r => r.Message.Sequence).Order().ToList();
            Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), sequences);
            Assert.Equal(100, await store.GetLatestSequenceAsync(room, CancellationToken.None));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_message_id_is_stored_once_per_room()
    {
        var store = await CreateStoreAsync();
        var a = await CreateRoomAsync(store, "a", "alice");
        var b = await CreateRoomAsync(store, "b", "alice");

        var first = await store.AppendMessageAsync(new NewMessage(a, "same", "alice", "first", Now), CancellationToken.None);
        var again = await store.AppendMessageAsync(new NewMessage(a, "same", "alice", "second", Now.AddSeconds(1)), CancellationToken.None);
        var otherRoom = await store.AppendMessageAsync(new NewMessage(b, "same", "alice", "elsewhere", Now), CancellationToken.None);

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Message, again.Message);
        Assert.False(otherRoom.Duplicate);
        Assert.Single(await store.GetMessagesAsync(a, new MessageRange(0, null, 10), CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task Concurrent_appends_of_one_client_message_id_store_it_once()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "r", "alice");

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
            await store.AppendMessageAsync(new NewMessage(room, i % 2 == 0 ? "same" : $"other{i}", "alice", $"body {i}", Now), CancellationToken.None))));

        var same = results.Where(r => r.Message.ClientMessageId == "same").ToList();
        Assert.Single(same, r => !r.Duplicate);
        Assert.Single(same.Select(r => r.Message.Sequence).Distinct());
        var stored = await store.GetMessagesAsync(room, new MessageRange(0, null, 100), CancellationToken.None);
        Assert.Equal(21, stored.Count);
        Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), stored.Select(m => m.Sequence));
    }

    [Fact(Timeout = 30_000)]
    public async Task Retries_among_new_messages_get_the_stored_answer_and_leave_no_gap()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "r", "alice", "bob");
        var originals = new List<ChatMessage>();
        for (var i = 0; i < 10; i++)
        {
            originals.Add((await store.AppendMessageAsync(new NewMessage(room, $"c{i}", "alice", $"first {i}", Now), CancellationToken.None)).Message);
        }

        // Retries of all ten race with twenty new messages from two senders, so they share batches.
        var retries = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
            await store.AppendMessageAsync(new NewMessage(room, $"c{i}", "alice", $"retry {i}", Now.AddSeconds(1)), CancellationToken.None)));
        var fresh = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
            await store.AppendMessageAsync(new NewMessage(room, $"n{i}", i % 2 == 0 ? "alice" : "bob", $"new {i}", Now), CancellationToken.None)));
        var retried = await Task.WhenAll(retries);
        var added = await Task.WhenAll(fresh);

        Assert.All(retried, r => Assert.True(r.Duplicate));
        Assert.Equal(originals, retried.Select(r => r.Message).OrderBy(m => m.Sequence));
        Assert.All(added, r => Assert.False(r.Duplicate));
        Assert.Equal(Enumerable.Range(11, 20).Select(i => (long)i), added.Select(r => r.Message.Sequence).Order());
        var stored = await store.GetMessagesAsync(room, new MessageRange(0, null, 100), CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), stored.Select(m => m.Sequence));
        Assert.Equal(originals, stored.Take(10));
        var members = (await store.GetMembersAsync(room, CancellationToken.None)).ToDictionary(m => m.Member.UserId, m => m.State);
        foreach (var sender in new[] { "alice", "bob" })
        {
            var last = added.Where(r => r.Message.SenderId == sender).Max(r => r.Message.Sequence);
            Assert.Equal(new ReadState(last, last), members[sender]);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Message_ranges_page_from_either_end_in_ascending_order()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "r", "alice");
        for (var i = 1; i <= 10; i++)
        {
            await store.AppendMessageAsync(new NewMessage(room, $"c{i}", "alice", $"m{i}", Now), CancellationToken.None);
        }

        async Task<long[]> Seqs(long? after, long? before, int limit) =>
            (await store.GetMessagesAsync(room, new MessageRange(after, before, limit), CancellationToken.None)).Select(m => m.Sequence).ToArray();

        Assert.Equal(new long[] { 8, 9, 10 }, await Seqs(null, null, 3));
        Assert.Equal(new long[] { 3, 4 }, await Seqs(null, 5, 2));
        Assert.Equal(new long[] { 6, 7, 8 }, await Seqs(5, null, 3));
        Assert.Equal(new long[] { 4, 5, 6 }, await Seqs(3, 7, 10));
        Assert.Empty(await Seqs(10, null, 5));
        Assert.Empty(await Seqs(null, 1, 5));
        Assert.Empty(await store.GetMessagesAsync("missing", new MessageRange(0, null, 5), CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task Members_join_with_read_state_at_the_latest_message_and_leave_cleanly()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "r", "alice");
        await store.AppendMessageAsync(new NewMessage(room, "c1", "alice", "before bob", Now), CancellationToken.None);

        Assert.True(await store.AddMemberAsync(new RoomMember(room, "bob", MemberRole.Member, Now), CancellationToken.None));
        Assert.False(await store.AddMemberAsync(new RoomMember(room, "bob", MemberRole.Admin, Now), CancellationToken.None));
        var bobs = Assert.Single(await store.GetMembershipsAsync("bob", CancellationToken.None));
        Assert.Equal((1L, 1L, 0L), (bobs.LatestSequence, bobs.State.ReadSequence, bobs.Unread));
        Assert.Equal(MemberRole.Member, (await store.GetMemberAsync(room, "bob", CancellationToken.None))!.Role);
        var members = await store.GetMembersAsync(room, CancellationToken.None);
        Assert.Equal(["alice", "bob"], members.Select(m => m.Member.UserId));
        Assert.Equal(new ReadState(1, 1), members[1].State);

        await store.AppendMessageAsync(new NewMessage(room, "c2", "alice", "for bob", Now), CancellationToken.None);
        Assert.Equal(1, Assert.Single(await store.GetMembershipsAsync("bob", CancellationToken.None)).Unread);

        Assert.True(await store.RemoveMemberAsync(room, "bob", CancellationToken.None));
        Assert.False(await store.RemoveMemberAsync(room, "bob", CancellationToken.None));
        Assert.Empty(await store.GetMembershipsAsync("bob", CancellationToken.None));
        Assert.Null(await store.GetMemberAsync(room, "bob", CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task Read_state_only_moves_forward_and_read_implies_delivered()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "r", "alice", "bob");
        for (var i = 1; i <= 5; i++)
        {
            await store.AppendMessageAsync(new NewMessage(room, $"c{i}", "alice", $"m{i}", Now), CancellationToken.None);
        }

        Assert.Equal(new ReadState(4, 0), await store.AdvanceReadStateAsync(room, "bob", ReceiptKind.Delivered, 4, CancellationToken.None));
        Assert.Equal(new ReadState(4, 2), await store.AdvanceReadStateAsync(room, "bob", ReceiptKind.Read, 2, CancellationToken.None));
        Assert.Equal(new ReadState(4, 2), await store.AdvanceReadStateAsync(room, "bob", ReceiptKind.Read, 1, CancellationToken.None));
        Assert.Equal(new ReadState(5, 5), await store.AdvanceReadStateAsync(room, "bob", ReceiptKind.Read, 5, CancellationToken.None));
        Assert.Equal(new ReadState(5, 5), Assert.Single(await store.GetMembershipsAsync("alice", CancellationToken.None)).State);
    }

    [Fact(Timeout = 30_000)]
    public async Task Rooms_are_created_once_and_public_rooms_are_listed_newest_first()
    {
        var store = await CreateStoreAsync();
        var older = new Room("r_old", RoomKind.Group, "old", RoomVisibility.Public, "alice", Now);
        var newer = new Room("r_new", RoomKind.Group, "new", RoomVisibility.Public, "alice", Now.AddMinutes(1));
        var hidden = new Room("r_hidden", RoomKind.Group, "hidden", RoomVisibility.Private, "alice", Now.AddMinutes(2));
        foreach (var room in new[] { older, newer, hidden })
        {
            Assert.True(await store.CreateRoomAsync(room, [new RoomMember(room.Id, "alice", MemberRole.Owner, Now)], CancellationToken.None));
        }

        Assert.False(await store.CreateRoomAsync(older with { Name = "again" }, [], CancellationToken.None));
        Assert.Equal("old", (await store.GetRoomAsync("r_old", CancellationToken.None))!.Name);
        Assert.Null(await store.GetRoomAsync("r_missing", CancellationToken.None));
        Assert.Equal(["r_new", "r_old"], (await store.GetPublicRoomsAsync(10, CancellationToken.None)).Select(r => r.Id));
    }

    [Fact(Timeout = 30_000)]
    public async Task Users_are_upserted_searched_by_prefix_and_remember_when_they_were_last_seen()
    {
        var store = await CreateStoreAsync();
        await store.UpsertUserAsync("alice", "Alice", CancellationToken.None);
        await store.UpsertUserAsync("albert", "Bert", CancellationToken.None);
        await store.UpsertUserAsync("bob", "Bob", CancellationToken.None);
        await store.SetLastSeenAsync([new UserLastSeen("bob", Now)], CancellationToken.None);
        await store.UpsertUserAsync("bob", "Robert", CancellationToken.None);

        Assert.Equal(["albert", "alice"], (await store.SearchUsersAsync("al", 10, CancellationToken.None)).Select(u => u.Id));
        Assert.Equal(["albert", "bob"], (await store.SearchUsersAsync("B", 10, CancellationToken.None)).Select(u => u.Id));
        var bob = Assert.Single(await store.GetUsersAsync(["bob", "nobody"], CancellationToken.None));
        Assert.Equal(new UserProfile("bob", "Robert", Now), bob);
    }

    [Fact(Timeout = 30_000)]
    public async Task Last_seen_of_many_users_is_written_at_once_each_with_its_own_latest_time()
    {
        var store = await CreateStoreAsync();
        await store.UpsertUserAsync("alice", "Alice", CancellationToken.None);
        await store.UpsertUserAsync("bob", "Bob", CancellationToken.None);

        await store.SetLastSeenAsync(
            [new UserLastSeen("alice", Now.AddSeconds(5)), new UserLastSeen("bob", Now.AddSeconds(1)), new UserLastSeen("carol", Now.AddSeconds(2)), new UserLastSeen("alice", Now)],
            CancellationToken.None);

        var users = await store.GetUsersAsync(["alice", "bob", "carol"], CancellationToken.None);
        Assert.Equal(
            [new UserProfile("alice", "Alice", Now.AddSeconds(5)), new UserProfile("bob", "Bob", Now.AddSeconds(1)), new UserProfile("carol", "carol", Now.AddSeconds(2))],
            users.OrderBy(u => u.Id, StringComparer.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task Room_ids_of_several_users_come_from_one_read_without_rooms_they_left()
    {
        var store = await CreateStoreAsync();
        var both = await CreateRoomAsync(store, "both", "alice", "bob");
        var left = await CreateRoomAsync(store, "left", "alice", "bob");
        var alone = await CreateRoomAsync(store, "alone", "alice");
        Assert.True(await store.RemoveMemberAsync(left, "bob", CancellationToken.None));

        var rooms = await store.GetRoomIdsOfUsersAsync(["alice", "bob", "nobody"], CancellationToken.None);

        Assert.Equal(["alice", "bob"], rooms.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new[] { both, left, alone }.Order(StringComparer.Ordinal), rooms["alice"].Order(StringComparer.Ordinal));
        Assert.Equal([both], rooms["bob"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Logged_messages_are_stored_at_their_sequence_in_order_and_repeats_change_nothing()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "logged", "alice", "bob");
        var batch = Enumerable.Range(1, 3).Select(i => new ChatMessage(room, i, $"c{i}", i == 3 ? "bob" : "alice", $"m{i}", Now)).ToList();

        var first = await store.StoreLoggedMessagesAsync(batch, CancellationToken.None);
        var again = await store.StoreLoggedMessagesAsync(batch, CancellationToken.None);

        Assert.All(first, r => Assert.Equal(LoggedMessageOutcome.Stored, r.Outcome));
        Assert.All(again, r => Assert.Equal(LoggedMessageOutcome.AlreadyStored, r.Outcome));
        Assert.Equal(batch, await store.GetMessagesAsync(room, new MessageRange(0, null, 10), CancellationToken.None));
        Assert.Equal(3, await store.GetLatestSequenceAsync(room, CancellationToken.None));
        Assert.Equal(new ReadState(3, 3), Assert.Single(await store.GetMembershipsAsync("bob", CancellationToken.None)).State);

        var appended = await store.AppendMessageAsync(new NewMessage(room, "c4", "alice", "m4", Now), CancellationToken.None);
        Assert.Equal(4, appended.Message.Sequence);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_logged_message_that_would_leave_a_gap_repeat_an_id_or_take_a_sequence_is_not_stored()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "refused", "alice");
        var one = new ChatMessage(room, 1, "c1", "alice", "m1", Now);
        await store.StoreLoggedMessagesAsync([one], CancellationToken.None);

        var results = await store.StoreLoggedMessagesAsync(
        [
            new ChatMessage(room, 3, "c3", "alice", "past a gap", Now),
            new ChatMessage(room, 2, "c1", "alice", "same id again", Now),
            new ChatMessage(room, 1, "other", "alice", "sequence taken", Now),
            new ChatMessage("no-such-room", 1, "c1", "alice", "nowhere", Now),
        ], CancellationToken.None);

        Assert.Equal(
            [LoggedMessageOutcome.Gap, LoggedMessageOutcome.Duplicate, LoggedMessageOutcome.SequenceTaken, LoggedMessageOutcome.NoRoom],
            results.Select(r => r.Outcome));
        Assert.Equal(one, results[1].Message);
        Assert.Equal(one, results[2].Message);
        Assert.Equal([one], await store.GetMessagesAsync(room, new MessageRange(0, null, 10), CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_logged_message_that_continues_its_room_with_an_id_stored_before_is_a_duplicate_and_the_rest_of_its_list_is_stored_once()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "continued", "alice");
        var one = new ChatMessage(room, 1, "c1", "alice", "m1", Now);
        await store.StoreLoggedMessagesAsync([one], CancellationToken.None);

        // Both continue the room from its counter; only the stored id tells the second apart.
        var results = await store.StoreLoggedMessagesAsync(
        [
            new ChatMessage(room, 2, "c2", "alice", "m2", Now),
            new ChatMessage(room, 3, "c1", "alice", "m1 sent again", Now),
        ], CancellationToken.None);

        Assert.Equal([LoggedMessageOutcome.Stored, LoggedMessageOutcome.Duplicate], results.Select(r => r.Outcome));
        Assert.Equal(one, results[1].Message);
        Assert.Equal(["m1", "m2"], (await store.GetMessagesAsync(room, new MessageRange(0, null, 10), CancellationToken.None)).Select(m => m.Body));
        Assert.Equal(2, await store.GetLatestSequenceAsync(room, CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task Within_one_list_of_logged_messages_each_sees_the_ones_before_it()
    {
        var store = await CreateStoreAsync();
        var room = await CreateRoomAsync(store, "within", "alice");
        var first = new ChatMessage(room, 1, "c1", "alice", "first", Now);

        var results = await store.StoreLoggedMessagesAsync(
        [
            first,
            new ChatMessage(room, 2, "c1", "alice", "same id in the same list", Now),
            new ChatMessage(room, 1, "c2", "alice", "same sequence in the same list", Now),
            new ChatMessage(room, 2, "c2", "alice", "second", Now),
        ], CancellationToken.None);

        Assert.Equal(
            [LoggedMessageOutcome.Stored, LoggedMessageOutcome.Duplicate, LoggedMessageOutcome.SequenceTaken, LoggedMessageOutcome.Stored],
            results.Select(r => r.Outcome));
        Assert.Equal(first, results[1].Message);
        Assert.Equal(["first", "second"], (await store.GetMessagesAsync(room, new MessageRange(0, null, 10), CancellationToken.None)).Select(m => m.Body));
    }

    private static async Task<string> CreateRoomAsync(IChatStore store, string name, params string[] members)
    {
        var room = new Room("r_" + name + Guid.NewGuid().ToString("N")[..8], RoomKind.Group, name, RoomVisibility.Private, members[0], Now);
        var roomMembers = members.Select((m, i) => new RoomMember(room.Id, m, i == 0 ? MemberRole.Owner : MemberRole.Member, Now)).ToList();
        Assert.True(await store.CreateRoomAsync(room, roomMembers, CancellationToken.None));
        return room.Id;
    }
}
