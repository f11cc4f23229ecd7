using ChatKit.Model;
using Npgsql;

namespace ChatKit.Storage.EfCore;

/// <summary>
/// <see cref="IChatStore.StoreLoggedMessagesAsync"/> on PostgreSQL in two round trips whatever the batch's size: one
/// that locks the batch's rooms (by id, byte-wise, as appends do) and reads their counters, the client message ids
/// already stored and the messages already at the batch's sequences; then, once <see cref="LoggedPlan"/> has decided
/// the outcomes, one that inserts the messages to store, moves the counters and the senders' read positions.
/// </summary>
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

    public static async Task<IReadOnlyList<LoggedMessageResult>> StoreAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ChatMessage> messages)
    {
        var plan = await ReadAsync(connection, transaction, messages).ConfigureAwait(false);
        var results = plan.Decide(messages);
        if (plan.Stored.Count > 0)
        {
            await WriteAsync(connection, transaction, plan).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>Locks the rooms and reads what the plan decides from.</summary>
    private static async Task<LoggedPlan> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ChatMessage> messages)
    {
        var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(LockRooms) { Parameters = { PostgreSqlRows.Text("rooms", messages.Select(m => m.RoomId).Distinct(StringComparer.Ordinal)) } },
                new NpgsqlBatchCommand(FindByClientId) { Parameters = { PostgreSqlRows.Text("rooms", messages.Select(m => m.RoomId)), PostgreSqlRows.Text("client_ids", messages.Select(m => m.ClientMessageId)) } },
                new NpgsqlBatchCommand(FindBySequence) { Parameters = { PostgreSqlRows.Text("rooms", messages.Select(m => m.RoomId)), PostgreSqlRows.Bigint("sequences", messages.Select(m => m.Sequence)) } },
            },
        };
        await using var disposeBatch = batch.ConfigureAwait(false);
        await batch.PrepareAsync().ConfigureAwait(false);
        var latest = new Dictionary<string, long>(StringComparer.Ordinal);
        var byClientId = new Dictionary<(string, string), ChatMessage>();
        var bySequence = new Dictionary<(string, long), ChatMessage>();
        var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                latest[reader.GetString(0)] = reader.GetInt64(1);
            }

            await reader.NextResultAsync().ConfigureAwait(false);
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
        }

        return new LoggedPlan(latest, byClientId, bySequence);
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
}
