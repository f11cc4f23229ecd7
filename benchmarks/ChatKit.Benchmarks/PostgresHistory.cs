using Npgsql;

namespace ChatKit.Benchmarks;

/// <summary>Messages copied straight into a PostgreSQL store, as the history of a database that has been running.</summary>
internal static class PostgresHistory
{
    /// <summary>
    /// Copies <paramref name="perRoom"/> messages (sequences 1 and up) into each of <paramref name="rooms"/>, moves
    /// the counters of those rooms that exist, then vacuums, analyzes and checkpoints: in a database that runs, old
    /// history has long been vacuumed and its statistics taken, and autovacuum or a checkpoint working through the
    /// fresh copy would otherwise compete with the measurement.
    /// </summary>
    public static async Task SeedAsync(string connectionString, IReadOnlyList<string> rooms, int perRoom)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var import = await connection.BeginBinaryImportAsync("COPY chatkit_messages (room_id, sequence, client_message_id, sender_id, body, sent_at_ms) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var room in rooms)
            {
                for (var seq = 1; seq <= perRoom; seq++)
                {
                    await import.StartRowAsync();
                    await import.WriteAsync(room);
                    await import.WriteAsync((long)seq);
                    await import.WriteAsync($"seed{seq}");
                    await import.WriteAsync("owner");
                    await import.WriteAsync("a message of a typical length, about sixty bytes long");
                    await import.WriteAsync(0L);
                }
            }

            await import.CompleteAsync();
        }

        await using (var counters = new NpgsqlCommand("UPDATE chatkit_rooms SET last_sequence = @count WHERE id = ANY(@rooms)", connection))
        {
            counters.Parameters.AddWithValue("count", (long)perRoom);
            counters.Parameters.AddWithValue("rooms", rooms.ToArray());
            await counters.ExecuteNonQueryAsync();
        }

        foreach (var maintenance in new[] { "VACUUM (ANALYZE)", "CHECKPOINT" })
        {
            await using var command = new NpgsqlCommand(maintenance, connection) { CommandTimeout = 600 };
            await command.ExecuteNonQueryAsync();
        }
    }
}
