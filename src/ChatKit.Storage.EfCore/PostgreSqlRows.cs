using ChatKit.Model;
using Npgsql;

namespace ChatKit.Storage.EfCore;

/// <summary>What ChatKit's PostgreSQL statements share: the message columns they read, and how a row becomes a message.</summary>
internal static class PostgreSqlRows
{
    /// <summary>The columns <see cref="ReadMessage"/> expects, in its order.</summary>
    public const string MessageColumns = "room_id, sequence, client_message_id, sender_id, body, sent_at_ms";

    public static ChatMessage ReadMessage(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
}
