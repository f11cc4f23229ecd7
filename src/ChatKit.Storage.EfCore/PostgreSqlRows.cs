using ChatKit.Model;
using Npgsql;
using NpgsqlTypes;

namespace ChatKit.Storage.EfCore;

/// <summary>What ChatKit's PostgreSQL statements share: the message columns they read, how a row becomes a message, array parameters.</summary>
internal static class PostgreSqlRows
{
    /// <summary>The columns <see cref="ReadMessage"/> expects, in its order.</summary>
    public const string MessageColumns = "room_id, sequence, client_message_id, sender_id, body, sent_at_ms";

    /// <summary>
    /// Makes the planner look rows up by their keys for the rest of the transaction: the batch statements join arrays
    /// of keys (<c>unnest</c>) with the messages, rooms and members, and on statistics taken while a table was small
    /// (a new database fills faster than autovacuum analyzes it) PostgreSQL chose a hash join over a sequential scan
    /// of the whole table for every batch, which grew slower with every message stored. Transaction-local; one
    /// statement, so it travels in the batch it starts.
    /// </summary>
    public static NpgsqlBatchCommand PreferIndexes() =>
        new("SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)");

    public static ChatMessage ReadMessage(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));

    /// <summary>A text array parameter (statements take every value as an array and <c>unnest</c> it).</summary>
    public static NpgsqlParameter Text(string name, IEnumerable<string> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() };

    /// <summary>A bigint array parameter.</summary>
    public static NpgsqlParameter Bigint(string name, IEnumerable<long> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = values.ToArray() };
}
