using ChatKit.Model;
using Npgsql;
using NpgsqlTypes;

namespace ChatKit.Storage.EfCore;

/// <summary>What ChatKit's PostgreSQL statements share: the message columns they read, how a row becomes a message, array parameters.</summary>
internal static class PostgreSqlRows
{
    /// <summary>The columns <see cref="ReadMessage"/> expects, in its order.</summary>
    public const string MessageColumns = "room_id, sequence, client_message_id, sender_id, body, sent_at_ms";

    public static ChatMessage ReadMessage(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));

    /// <summary>A text array parameter (statements take every value as an array and <c>unnest</c> it).</summary>
    public static NpgsqlParameter Text(string name, IEnumerable<string> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() };

    /// <summary>A bigint array parameter.</summary>
    public static NpgsqlParameter Bigint(string name, IEnumerable<long> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = values.ToArray() };
}
