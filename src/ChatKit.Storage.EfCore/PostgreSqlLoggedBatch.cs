using ChatKit.Model;
using Npgsql;

namespace ChatKit.Storage.EfCore;

/// <summary>
/// <see cref="IChatStore.StoreLoggedMessagesAsync"/> on PostgreSQL in two round trips whatever the batch's size: one
/// that locks the batch's rooms (by id, byte-wise, as appends do) and reads their counters; then, once
/// <see cref="LoggedPlan"/> has decided the outcomes, one that inserts the messages to store, moves the counters and
/// the senders' read positions.
/// </summary>
/// <remarks>
/// A list that continues each of its rooms from its counter (what a partition writer stores while the database is up)
/// needs nothing else read: the unique index on the client message ids catches one stored before under another
/// sequence, and the caller then runs the list again with <c>checkStored</c>. Otherwise, or with
/// <c>checkStored</c>, the first round trip also reads the client message ids already stored and the messages
/// already at the list's sequences, which the plan needs for repeats, duplicates and taken sequences (a third round
/// trip when only the counters showed that).
/// </remarks>
internal static class PostgreSqlLoggedBatch
{
    private const string LockRooms = """SELECT id, last_sequence FROM chatkit_rooms WHERE id = ANY(@rooms) ORDER BY id COLLATE "C" FOR UPDATE""";

    private const string FindByClientId = $"""
        SELECT {PostgreSqlRows.MessageColumns} FROM chatkit_messages m
        JOIN unnest(@rooms, @client_ids) AS k(room_id, client_message_id) USING (room_id, client_message_id)
        """;

    private const string FindBySequence = $"""
        SELECT {PostgreSqlRows.MessageColumns} FROM chatkit_messages m
        JOIN unnest(@rooms, @sequences) AS k(room_id, sequence) USING (room_id, sequence)
        """;

    private const string Insert = """
        INSERT INTO chatkit_messages (room_id, sequence, client_message_id, sender_id, body, sent_at_ms)
        SELECT * FROM unnest(@rooms, @sequences, @client_ids, @senders, @bodies, @sent_at)
        """;

    private const string MoveCounters = """
        UPDATE chatkit_rooms r SET last_sequence = d.latest
        FROM unnest(@rooms, @latest) AS d(id, latest)
        WHERE r.id = d.id
        """;

    private const string AdvanceSenders = """
        UPDATE chatkit_members m
        SET read_sequence = GREATEST(m.read_sequence, d.sequence), delivered_sequence = GREATEST(m.delivered_sequence, d.sequence)
        FROM unnest(@rooms, @users, @sequences) AS d(room_id, user_id, sequence)
        WHERE m.room_id = d.room_id AND m.user_id = d.user_id
        """;

    public static async Task<IReadOnlyList<LoggedMessageResult>> StoreAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ChatMessage> messages, bool checkStored)
    {
        var read = await ReadAsync(connection, transaction, messages, checkStored).ConfigureAwait(false);
        var plan = new LoggedPlan(new Dictionary<string, long>(read.Counters, StringComparer.Ordinal), read.ByClientId, read.BySequence);
        var results = plan.Decide(messages);
        if (!checkStored && results.Exists(r => r.Outcome != LoggedMessageOutcome.Stored))
        {
            // Not a plain continuation: decide again knowing what is stored.
            var stored = await LookUpAsync(connection, transaction, messages).ConfigureAwait(false);
            plan = new LoggedPlan(read.Counters, stored.ByClientId, stored.BySequence);
            results = plan.Decide(messages);
        }

        if (plan.Stored.Count > 0)
        {
            await WriteAsync(connection, transaction, plan).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>Locks the rooms and reads their counters, and with <paramref name="lookUp"/> what is stored, in one round trip.</summary>
    private static async Task<StoredState> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ChatMessage> messages, bool lookUp)
    {
        var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                PostgreSqlRows.PreferIndexes(),
                new NpgsqlBatchCommand(LockRooms) { Parameters = { PostgreSqlRows.Text("rooms", messages.Select(m => m.RoomId).Distinct(StringComparer.Ordinal)) } },
            },
        };
        if (lookUp)
        {
            AddLookUps(batch, messages);
        }

        await using var disposeBatch = batch.ConfigureAwait(false);
        await batch.PrepareAsync().ConfigureAwait(false);
        var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.NextResultAsync().ConfigureAwait(false);
            var counters = new Dictionary<string, long>(StringComparer.Ordinal);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                counters[reader.GetString(0)] = reader.GetInt64(1);
            }

            var stored = lookUp ? await ReadLookUpsAsync(reader).ConfigureAwait(false) : StoredState.Nothing;
            return stored with { Counters = counters };
        }
    }

    /// <summary>Reads the client message ids already stored and the messages already at the list's sequences.</summary>
    private static async Task<StoredState> LookUpAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ChatMessage> messages)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        AddLookUps(batch, messages);
        await using var disposeBatch = batch.ConfigureAwait(false);
        await batch.PrepareAsync().ConfigureAwait(false);
        var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await ReadLookUpsAsync(reader, first: true).ConfigureAwait(false);
        }
    }

    private static void AddLookUps(NpgsqlBatch batch, IReadOnlyList<ChatMessage> messages)
    {
        batch.BatchCommands.Add(new NpgsqlBatchCommand(FindByClientId) { Parameters = { PostgreSqlRows.Text("rooms", messages.Select(m => m.RoomId)), PostgreSqlRows.Text("client_ids", messages.Select(m => m.ClientMessageId)) } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(FindBySequence) { Parameters = { PostgreSqlRows.Text("rooms", messages.Select(m => m.RoomId)), PostgreSqlRows.Bigint("sequences", messages.Select(m => m.Sequence)) } });
    }

    /// <summary>Reads the two look-ups' results, which come next in <paramref name="reader"/> (or first, with <paramref name="first"/>).</summary>
    private static async Task<StoredState> ReadLookUpsAsync(NpgsqlDataReader reader, bool first = false)
    {
        var byClientId = new Dictionary<(string, string), ChatMessage>();
        var bySequence = new Dictionary<(string, long), ChatMessage>();
        if (!first)
        {
            await reader.NextResultAsync().ConfigureAwait(false);
        }

        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            var message = PostgreSqlRows.ReadMessage(reader);
            byClientId[(message.RoomId, message.ClientMessageId)] = message;
        }

        await reader.NextResultAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            var message = PostgreSqlRows.ReadMessage(reader);
            bySequence[(message.RoomId, message.Sequence)] = message;
        }

        return new StoredState([], byClientId, bySequence);
    }

    private static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, LoggedPlan plan)
    {
        var stored = plan.Stored;
        var counters = plan.Counters();
        var senders = plan.Senders();
        var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(Insert)
                {
                    Parameters =
                    {
                        PostgreSqlRows.Text("rooms", stored.Select(m => m.RoomId)),
                        PostgreSqlRows.Bigint("sequences", stored.Select(m => m.Sequence)),
                        PostgreSqlRows.Text("client_ids", stored.Select(m => m.ClientMessageId)),
                        PostgreSqlRows.Text("senders", stored.Select(m => m.SenderId)),
                        PostgreSqlRows.Text("bodies", stored.Select(m => m.Body)),
                        PostgreSqlRows.Bigint("sent_at", stored.Select(m => m.SentAt.ToUnixTimeMilliseconds())),
                    },
                },
                new NpgsqlBatchCommand(MoveCounters) { Parameters = { PostgreSqlRows.Text("rooms", counters.Select(c => c.Room)), PostgreSqlRows.Bigint("latest", counters.Select(c => c.Latest)) } },
                new NpgsqlBatchCommand(AdvanceSenders)
                {
                    Parameters = { PostgreSqlRows.Text("rooms", senders.Select(s => s.Room)), PostgreSqlRows.Text("users", senders.Select(s => s.Sender)), PostgreSqlRows.Bigint("sequences", senders.Select(s => s.Sequence)) },
                },
            },
        };
        await using var disposeBatch = batch.ConfigureAwait(false);
        await batch.PrepareAsync().ConfigureAwait(false);
        await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>The rooms' counters and what the look-ups found.</summary>
    private sealed record StoredState(
        Dictionary<string, long> Counters,
        Dictionary<(string Room, string ClientMessageId), ChatMessage> ByClientId,
        Dictionary<(string Room, long Sequence), ChatMessage> BySequence)
    {
        public static StoredState Nothing => new([], [], []);
    }
}
