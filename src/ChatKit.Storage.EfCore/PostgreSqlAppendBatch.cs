using ChatKit.Model;
using Npgsql;

namespace ChatKit.Storage.EfCore;

/// <summary>
/// Stores a batch of appends on PostgreSQL with set-based statements in one round trip (and a commit), whatever
/// the batch's size. Statement texts are constants; every value travels as an array parameter.
/// </summary>
/// <remarks>
/// Room counters are locked in one order (by id, byte-wise) on every node, so concurrent batches that share rooms
/// queue instead of deadlocking; a sender's read position is only updated while its room's counter is locked.
/// The batch assumes its client message ids are new: a stored one fails the insert on the unique index, and the
/// caller runs the batch again with <c>checkStored</c>, which answers retries with the stored messages.
/// </remarks>
internal static class PostgreSqlAppendBatch
{
    private const string FindStored = """
        SELECT m.room_id, m.sequence, m.client_message_id, m.sender_id, m.body, m.sent_at_ms
        FROM chatkit_messages m
        JOIN unnest(@rooms, @client_ids) AS k(room_id, client_message_id)
          ON m.room_id = k.room_id AND m.client_message_id = k.client_message_id
        """;

    private const string LockRooms = """SELECT id FROM chatkit_rooms WHERE id = ANY(@rooms) ORDER BY id COLLATE "C" FOR UPDATE""";

    // Each room's counter moves by its count of new messages; a message's sequence is the old counter plus its
    // position (1-based) among the room's new messages.
    private const string InsertMessages = """
        WITH counters AS (
            UPDATE chatkit_rooms r SET last_sequence = r.last_sequence + d.n
            FROM unnest(@rooms, @counts) AS d(id, n)
            WHERE r.id = d.id
            RETURNING r.id, r.last_sequence - d.n AS base
        )
        INSERT INTO chatkit_messages (room_id, sequence, client_message_id, sender_id, body, sent_at_ms)
        SELECT m.room_id, c.base + m.position, m.client_message_id, m.sender_id, m.body, m.sent_at_ms
        FROM unnest(@message_rooms, @positions, @client_ids, @senders, @bodies, @sent_at)
             AS m(room_id, position, client_message_id, sender_id, body, sent_at_ms)
        JOIN counters c ON c.id = m.room_id
        RETURNING room_id, sequence
        """;

    // A sender has read what they sent: their position moves to their last new message, which lies `back` below
    // the room's counter.
    private const string AdvanceSenders = """
        UPDATE chatkit_members m
        SET read_sequence = GREATEST(m.read_sequence, r.last_sequence - d.back),
            delivered_sequence = GREATEST(m.delivered_sequence, r.last_sequence - d.back)
        FROM unnest(@rooms, @users, @back) AS d(room_id, user_id, back)
        JOIN chatkit_rooms r ON r.id = d.room_id
        WHERE m.room_id = d.room_id AND m.user_id = d.user_id
        """;

    /// <summary>
    /// Appends every message of the batch in the open transaction and returns their outcomes in batch order. Throws
    /// <see cref="KeyNotFoundException"/> when a room does not exist, and PostgreSQL's own error on a stored or
    /// concurrent duplicate or a deadlock; the caller then rolls back and retries.
    /// </summary>
    public static async Task<AppendResult[]> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<NewMessage> batch, bool checkStored)
    {
        var stored = checkStored
            ? await FindStoredAsync(connection, transaction, batch).ConfigureAwait(false)
            : new Dictionary<(string, string), ChatMessage>();
        var plan = AppendPlan.Create(batch, stored);
        if (plan.NewByRoom.Count > 0)
        {
            plan.AssignSequences(await WriteAsync(connection, transaction, plan).ConfigureAwait(false));
        }

        return plan.Results();
    }

    private static async Task<Dictionary<(string, string), ChatMessage>> FindStoredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<NewMessage> batch)
    {
        var command = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                PostgreSqlRows.PreferIndexes(),
                new NpgsqlBatchCommand(FindStored) { Parameters = { PostgreSqlRows.Text("rooms", batch.Select(m => m.RoomId)), PostgreSqlRows.Text("client_ids", batch.Select(m => m.ClientMessageId)) } },
            },
        };
        await using var disposeCommand = command.ConfigureAwait(false);
        var stored = new Dictionary<(string, string), ChatMessage>();
        var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        await using var disposeReader = reader.ConfigureAwait(false);
        await reader.NextResultAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            var message = PostgreSqlRows.ReadMessage(reader);
            stored[(message.RoomId, message.ClientMessageId)] = message;
        }

        return stored;
    }

    /// <summary>Advances the counters, inserts the new messages and moves the senders' positions; returns each room's counter.</summary>
    private static async Task<Dictionary<string, long>> WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AppendPlan plan)
    {
        var rooms = plan.NewByRoom.Keys.ToArray();
        var messages = plan.NewByRoom.SelectMany(room => room.Value.Select((index, position) => (Index: index, Position: position + 1L))).ToList();
        var senders = plan.NewByRoom
            .SelectMany(room => room.Value.Select((index, position) => (Room: room.Key, plan.Batch[index].SenderId, Back: room.Value.Count - 1L - position)))
            .GroupBy(s => (s.Room, s.SenderId))
            .Select(g => (g.Key.Room, g.Key.SenderId, Back: g.Min(s => s.Back)))
            .ToList();
        var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                PostgreSqlRows.PreferIndexes(),
                new NpgsqlBatchCommand(LockRooms) { Parameters = { PostgreSqlRows.Text("rooms", rooms) } },
                new NpgsqlBatchCommand(InsertMessages)
                {
                    Parameters =
                    {
                        PostgreSqlRows.Text("rooms", rooms),
                        PostgreSqlRows.Bigint("counts", plan.NewByRoom.Values.Select(v => (long)v.Count)),
                        PostgreSqlRows.Text("message_rooms", messages.Select(m => plan.Batch[m.Index].RoomId)),
                        PostgreSqlRows.Bigint("positions", messages.Select(m => m.Position)),
                        PostgreSqlRows.Text("client_ids", messages.Select(m => plan.Batch[m.Index].ClientMessageId)),
                        PostgreSqlRows.Text("senders", messages.Select(m => plan.Batch[m.Index].SenderId)),
                        PostgreSqlRows.Text("bodies", messages.Select(m => plan.Batch[m.Index].Body)),
                        PostgreSqlRows.Bigint("sent_at", messages.Select(m => plan.Batch[m.Index].SentAt.ToUnixTimeMilliseconds())),
                    },
                },
                new NpgsqlBatchCommand(AdvanceSenders)
                {
                    Parameters =
                    {
                        PostgreSqlRows.Text("rooms", senders.Select(s => s.Room)),
                        PostgreSqlRows.Text("users", senders.Select(s => s.SenderId)),
                        PostgreSqlRows.Bigint("back", senders.Select(s => s.Back)),
                    },
                },
            },
        };
        await using var disposeBatch = batch.ConfigureAwait(false);
        var last = new Dictionary<string, long>(StringComparer.Ordinal);
        var inserted = 0;
        await batch.PrepareAsync().ConfigureAwait(false);
        var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.NextResultAsync().ConfigureAwait(false);
            await reader.NextResultAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var room = reader.GetString(0);
                last[room] = Math.Max(last.GetValueOrDefault(room), reader.GetInt64(1));
                inserted++;
            }
        }

        if (inserted != messages.Count)
        {
            throw new KeyNotFoundException("A room of the batch does not exist.");
        }

        return last;
    }
}
