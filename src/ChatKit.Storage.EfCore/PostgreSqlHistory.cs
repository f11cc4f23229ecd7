using ChatKit.Model;
using Npgsql;
using NpgsqlTypes;

namespace ChatKit.Storage.EfCore;

/// <summary>
/// History pages on PostgreSQL as prepared statements: a page is one index range scan on (room, sequence), and
/// reading it this way costs a fraction of a LINQ query's overhead. Statement texts are constants.
/// </summary>
internal static class PostgreSqlHistory
{
    private const string Newest = $"""
        SELECT {PostgreSqlRows.MessageColumns} FROM chatkit_messages
        WHERE room_id = @room AND sequence > @after AND sequence < @before
        ORDER BY sequence DESC LIMIT @limit
        """;

    private const string Oldest = $"""
        SELECT {PostgreSqlRows.MessageColumns} FROM chatkit_messages
        WHERE room_id = @room AND sequence > @after AND sequence < @before
        ORDER BY sequence LIMIT @limit
        """;

    /// <summary>The page in ascending sequence order.</summary>
    public static async Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(NpgsqlConnection connection, string roomId, MessageRange range, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(range.FromNewest ? Newest : Oldest, connection)
        {
            Parameters =
            {
                new NpgsqlParameter("room", NpgsqlDbType.Text) { Value = roomId },
                new NpgsqlParameter("after", NpgsqlDbType.Bigint) { Value = range.After ?? 0 },
                new NpgsqlParameter("before", NpgsqlDbType.Bigint) { Value = range.Before ?? long.MaxValue },
                new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = range.Limit },
            },
        };
        await using var disposeCommand = command.ConfigureAwait(false);
        await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        var messages = new List<ChatMessage>(range.Limit);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                messages.Add(PostgreSqlRows.ReadMessage(reader));
            }
        }

        if (range.FromNewest)
        {
            messages.Reverse();
        }

        return messages;
    }
}
