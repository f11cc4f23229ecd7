using ChatKit.Storage.EfCore.Options;
using Microsoft.EntityFrameworkCore;

namespace ChatKit.Storage.EfCore.Migrations;

/// <summary>
/// Creates and upgrades ChatKit's tables in its own database. Runs each missing step in a transaction and records
/// it in <c>chatkit_schema</c>; several nodes may run it at once (PostgreSQL takes an advisory lock, SQLite a write
/// lock), and running it again does nothing.
/// </summary>
public static class ChatKitSchema
{
    // An arbitrary, fixed key for pg_advisory_xact_lock: "chat" in ASCII.
    private const long PostgreSqlLockKey = 0x63686174;

    /// <summary>Applies every step the database does not have yet; returns the ids of the steps applied.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(ChatKitDbContext db, EfCoreStorageProvider provider, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        var applied = new List<string>();
        var postgres = provider == EfCoreStorageProvider.PostgreSql;
        if (!postgres)
        {
            // Readers never wait for the writer in WAL mode; the setting is stored in the database file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL", cancellationToken).ConfigureAwait(false);
        }

        var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            if (postgres)
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({PostgreSqlLockKey})", cancellationToken).ConfigureAwait(false);
            }

            await db.Database.ExecuteSqlRawAsync(
                postgres
                    ? "CREATE TABLE IF NOT EXISTS chatkit_schema (id varchar(100) NOT NULL PRIMARY KEY, applied_at_ms bigint NOT NULL)"
                    : "CREATE TABLE IF NOT EXISTS chatkit_schema (id TEXT NOT NULL PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
                cancellationToken).ConfigureAwait(false);
            var done = await db.Database.SqlQueryRaw<string>("SELECT id AS \"Value\" FROM chatkit_schema").ToListAsync(cancellationToken).ConfigureAwait(false);
            foreach (var step in ChatKitMigrations.All.Where(m => !done.Contains(m.Id, StringComparer.Ordinal)))
            {
                foreach (var statement in postgres ? step.PostgreSql : step.Sqlite)
                {
                    await db.Database.ExecuteSqlRawAsync(statement, cancellationToken).ConfigureAwait(false);
                }

                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                await db.Database.ExecuteSqlAsync($"INSERT INTO chatkit_schema (id, applied_at_ms) VALUES ({step.Id}, {now})", cancellationToken).ConfigureAwait(false);
                applied.Add(step.Id);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return applied;
    }
}
