using System.Data.Common;
using ChatKit.Encryption;
using ChatKit.Engine;
using ChatKit.Keys;
using ChatKit.Protocol;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace ChatKit.Storage.EfCore;

/// <summary>
/// <see cref="IKeyDirectoryStore"/> in the same database as <see cref="EfCoreChatStore{TContext}"/>: tables
/// <c>chatkit_devices</c> and <c>chatkit_one_time_prekeys</c> (<see cref="ChatKitModelBuilderExtensions.ApplyChatKitModel"/>),
/// through the context's connection with constant, parameterized SQL for SQLite or PostgreSQL.
/// </summary>
/// <remarks>
/// <para>
/// Every change runs in one transaction. On PostgreSQL the device row is the device's lock, taken first by every
/// writer: a publish locks it for update, so it is alone while it compares the stored identity keys and drops the old
/// one-time prekeys; claims and additions lock it for share, so they run side by side but never half-way through a
/// publish or a removal. A claim takes its one-time prekey with <c>FOR UPDATE SKIP LOCKED</c>, so concurrent claims on
/// any number of nodes each delete (and hand out) a different key, without waiting for each other. SQLite runs one
/// writer at a time (its transactions take the write lock at the start), which gives the same guarantees.
/// </para>
/// <para>
/// One-time prekeys are inserted in ascending id order with <c>ON CONFLICT DO NOTHING</c>: ids the device already
/// has keep their stored key, and concurrent additions wait for each other in one order instead of deadlocking.
/// </para>
/// </remarks>
/// <typeparam name="TContext">The context: <see cref="ChatKitDbContext"/>, or the host's own.</typeparam>
public sealed class EfCoreKeyDirectoryStore<TContext>(IDbContextFactory<TContext> contexts, TimeProvider time) : IKeyDirectoryStore
    where TContext : DbContext
{
    private const string InsertDevice = """
        INSERT INTO chatkit_devices (user_id, device_id, signing_key, identity_key, identity_signature, signed_prekey_id, signed_prekey, signed_prekey_signature, updated_at_ms)
        VALUES (@user, @device, @signing_key, @identity_key, @identity_signature, @signed_prekey_id, @signed_prekey, @signed_prekey_signature, @updated_at_ms)
        ON CONFLICT (user_id, device_id) DO NOTHING
        """;

    private const string UpdateDevice = """
        UPDATE chatkit_devices
        SET signing_key = @signing_key, identity_key = @identity_key, identity_signature = @identity_signature,
            signed_prekey_id = @signed_prekey_id, signed_prekey = @signed_prekey, signed_prekey_signature = @signed_prekey_signature,
            updated_at_ms = @updated_at_ms
        WHERE user_id = @user AND device_id = @device
        """;

    private const string DeviceKeysSqlite = "SELECT signing_key, identity_key FROM chatkit_devices WHERE user_id = @user AND device_id = @device";

    private const string DeviceKeysPostgreSql = DeviceKeysSqlite + " FOR UPDATE";

    private const string DeviceExistsSqlite = "SELECT 1 FROM chatkit_devices WHERE user_id = @user AND device_id = @device";

    private const string DeviceExistsPostgreSql = DeviceExistsSqlite + " FOR SHARE";

    private const string DeleteDevice = "DELETE FROM chatkit_devices WHERE user_id = @user AND device_id = @device";

    private const string DeletePreKeys = "DELETE FROM chatkit_one_time_prekeys WHERE user_id = @user AND device_id = @device";

    private const string CountPreKeys = "SELECT count(*) FROM chatkit_one_time_prekeys WHERE user_id = @user AND device_id = @device";

    private const string CountKnownDevicePreKeys = """
        SELECT (SELECT count(*) FROM chatkit_one_time_prekeys k WHERE k.user_id = d.user_id AND k.device_id = d.device_id)
        FROM chatkit_devices d
        WHERE d.user_id = @user AND d.device_id = @device
        """;

    private const string InsertPreKeySqlite = """
        INSERT INTO chatkit_one_time_prekeys (user_id, device_id, key_id, public_key)
        VALUES (@user, @device, @key_id, @public_key)
        ON CONFLICT (user_id, device_id, key_id) DO NOTHING
        """;

    private const string InsertPreKeysPostgreSql = """
        INSERT INTO chatkit_one_time_prekeys (user_id, device_id, key_id, public_key)
        SELECT @user, @device, k.key_id, k.public_key
        FROM unnest(@key_ids, @public_keys) WITH ORDINALITY AS k(key_id, public_key, position)
        ORDER BY k.position
        ON CONFLICT (user_id, device_id, key_id) DO NOTHING
        """;

    private const string DevicesSqlite = """
        SELECT device_id, signing_key, identity_key, identity_signature FROM chatkit_devices
        WHERE user_id = @user
        ORDER BY device_id
        """;

    // Byte-wise order is ordinal order; the database's default collation may be a language's.
    private const string DevicesPostgreSql = """
        SELECT device_id, signing_key, identity_key, identity_signature FROM chatkit_devices
        WHERE user_id = @user
        ORDER BY device_id COLLATE "C"
        """;

    // A claim is three statements in one command and one transaction: the device (none: unknown), the one-time
    // prekey it takes (none: none left), and how many the device has left.
    private const string ClaimDevice = """
        SELECT signing_key, identity_key, identity_signature, signed_prekey_id, signed_prekey, signed_prekey_signature
        FROM chatkit_devices WHERE user_id = @user AND device_id = @device
        """;

    private const string ClaimSqlite = ClaimDevice + """
        ;
        DELETE FROM chatkit_one_time_prekeys
        WHERE rowid = (SELECT rowid FROM chatkit_one_time_prekeys WHERE user_id = @user AND device_id = @device ORDER BY key_id LIMIT 1)
        RETURNING key_id, public_key;
        """ + CountPreKeys;

    private const string ClaimPostgreSql = ClaimDevice + """
         FOR SHARE;
        DELETE FROM chatkit_one_time_prekeys
        WHERE (user_id, device_id, key_id) = (
            SELECT user_id, device_id, key_id FROM chatkit_one_time_prekeys
            WHERE user_id = @user AND device_id = @device
            ORDER BY key_id LIMIT 1
            FOR UPDATE SKIP LOCKED)
        RETURNING key_id, public_key;
        """ + CountPreKeys;

    /// <inheritdoc />
    public Task<int> PublishAsync(DeviceIdentityKey identity, SignedPreKey signedPreKey, IReadOnlyList<OneTimePreKey> oneTimePreKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(signedPreKey);
        ArgumentNullException.ThrowIfNull(oneTimePreKeys);
        return InTransactionAsync(async (db, postgres) =>
        {
            var user = identity.UserId;
            var device = identity.DeviceId;
            var values = DeviceValues(identity, signedPreKey, time.GetUtcNow().ToUnixTimeMilliseconds());
            while (await ExecuteAsync(db, InsertDevice, values, cancellationToken).ConfigureAwait(false) == 0)
            {
                // A known device: its row, locked now, says which keys it had (none: removed meanwhile, insert again).
                var stored = await ReadAsync(db, postgres ? DeviceKeysPostgreSql : DeviceKeysSqlite, Key(user, device), r => (Signing: Bytes(r, 0), Identity: Bytes(r, 1)), cancellationToken).ConfigureAwait(false);
                if (stored.Count == 0)
                {
                    continue;
                }

                var (signing, identityKey) = stored[0];
                if (!signing.AsSpan().SequenceEqual(identity.SigningKey) || !identityKey.AsSpan().SequenceEqual(identity.IdentityKey))
                {
                    // Other keys: a new device under an old id, whose old one-time prekeys nobody can use.
                    await ExecuteAsync(db, DeletePreKeys, Key(user, device), cancellationToken).ConfigureAwait(false);
                }

                await ExecuteAsync(db, UpdateDevice, values, cancellationToken).ConfigureAwait(false);
                break;
            }

            await InsertPreKeysAsync(db, postgres, user, device, oneTimePreKeys, cancellationToken).ConfigureAwait(false);
            return await CountAsync(db, user, device, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int?> AddOneTimePreKeysAsync(string userId, string deviceId, IReadOnlyList<OneTimePreKey> oneTimePreKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(oneTimePreKeys);
        return InTransactionAsync<int?>(async (db, postgres) =>
        {
            var known = await ReadAsync(db, postgres ? DeviceExistsPostgreSql : DeviceExistsSqlite, Key(userId, deviceId), _ => true, cancellationToken).ConfigureAwait(false);
            if (known.Count == 0)
            {
                return null;
            }

            await InsertPreKeysAsync(db, postgres, userId, deviceId, oneTimePreKeys, cancellationToken).ConfigureAwait(false);
            return await CountAsync(db, userId, deviceId, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DeviceIdentityKey>> GetDevicesAsync(string userId, CancellationToken cancellationToken) => QueryAsync<IReadOnlyList<DeviceIdentityKey>>(async (db, postgres) =>
        await ReadAsync(
            db,
            postgres ? DevicesPostgreSql : DevicesSqlite,
            [("@user", userId)],
            r => new DeviceIdentityKey(userId, r.GetString(0), Bytes(r, 1), Bytes(r, 2), Bytes(r, 3)),
            cancellationToken).ConfigureAwait(false),
        cancellationToken);

    /// <inheritdoc />
    public Task<KeyClaim?> ClaimBundleAsync(string userId, string deviceId, CancellationToken cancellationToken) => InTransactionAsync<KeyClaim?>(async (db, postgres) =>
    {
        var command = Command(db, postgres ? ClaimPostgreSql : ClaimSqlite, Key(userId, deviceId));
        await using var disposeCommand = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var disposeReader = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var identity = new DeviceIdentityKey(userId, deviceId, Bytes(reader, 0), Bytes(reader, 1), Bytes(reader, 2));
        var signedPreKey = new SignedPreKey(KeyId(reader, 3), Bytes(reader, 4), Bytes(reader, 5));
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var oneTimePreKey = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new OneTimePreKey(KeyId(reader, 0), Bytes(reader, 1)) : null;
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var remaining = checked((int)reader.GetInt64(0));
        return new KeyClaim(new PreKeyBundle(identity, signedPreKey, oneTimePreKey), remaining);
    }, cancellationToken);

    /// <inheritdoc />
    public Task<int?> CountOneTimePreKeysAsync(string userId, string deviceId, CancellationToken cancellationToken) => QueryAsync(async (db, _) =>
    {
        var counts = await ReadAsync(db, CountKnownDevicePreKeys, Key(userId, deviceId), r => checked((int)r.GetInt64(0)), cancellationToken).ConfigureAwait(false);
        return counts.Count == 0 ? (int?)null : counts[0];
    }, cancellationToken);

    /// <inheritdoc />
    public Task<bool> RemoveDeviceAsync(string userId, string deviceId, CancellationToken cancellationToken) => InTransactionAsync(async (db, _) =>
    {
        // The device row first, as every writer locks it first.
        var removed = await ExecuteAsync(db, DeleteDevice, Key(userId, deviceId), cancellationToken).ConfigureAwait(false) > 0;
        await ExecuteAsync(db, DeletePreKeys, Key(userId, deviceId), cancellationToken).ConfigureAwait(false);
        return removed;
    }, cancellationToken);

    /// <summary>Adds the keys the device lacks, in ascending id order; the first of an id repeated in the list counts.</summary>
    private static async Task InsertPreKeysAsync(TContext db, bool postgres, string userId, string deviceId, IReadOnlyList<OneTimePreKey> keys, CancellationToken cancellationToken)
    {
        var ordered = keys.DistinctBy(k => k.Id).OrderBy(k => k.Id).ToList();
        if (ordered.Count == 0)
        {
            return;
        }

        if (postgres)
        {
            var command = Command(db, InsertPreKeysPostgreSql, Key(userId, deviceId));
            await using var disposeCommand = command.ConfigureAwait(false);
            command.Parameters.Add(new NpgsqlParameter("key_ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = ordered.Select(k => (long)k.Id).ToArray() });
            command.Parameters.Add(new NpgsqlParameter("public_keys", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = ordered.Select(k => k.PublicKey).ToArray() });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // SQLite runs in the process: one prepared statement per key costs little.
        var insert = Command(db, InsertPreKeySqlite, [.. Key(userId, deviceId), ("@key_id", 0L), ("@public_key", Array.Empty<byte>())]);
        await using var disposeInsert = insert.ConfigureAwait(false);
        foreach (var key in ordered)
        {
            insert.Parameters["@key_id"].Value = (long)key.Id;
            insert.Parameters["@public_key"].Value = key.PublicKey;
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> CountAsync(TContext db, string userId, string deviceId, CancellationToken cancellationToken) =>
        (await ReadAsync(db, CountPreKeys, Key(userId, deviceId), r => checked((int)r.GetInt64(0)), cancellationToken).ConfigureAwait(false))[0];

    private static (string Name, object Value)[] Key(string userId, string deviceId) => [("@user", userId), ("@device", deviceId)];

    private static (string Name, object Value)[] DeviceValues(DeviceIdentityKey identity, SignedPreKey signedPreKey, long nowMs) =>
    [
        ("@user", identity.UserId),
        ("@device", identity.DeviceId),
        ("@signing_key", identity.SigningKey),
        ("@identity_key", identity.IdentityKey),
        ("@identity_signature", identity.Signature),
        ("@signed_prekey_id", (long)signedPreKey.Id),
        ("@signed_prekey", signedPreKey.PublicKey),
        ("@signed_prekey_signature", signedPreKey.Signature),
        ("@updated_at_ms", nowMs),
    ];

    private static byte[] Bytes(DbDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);

    private static uint KeyId(DbDataReader reader, int ordinal) => checked((uint)reader.GetInt64(ordinal));

    /// <summary>A command on the context's connection, in its transaction if it has one, with its command timeout.</summary>
    private static DbCommand Command(TContext db, string sql, (string Name, object Value)[] parameters)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        if (db.Database.GetCommandTimeout() is { } timeout)
        {
            command.CommandTimeout = timeout;
        }

        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(TContext db, string sql, (string Name, object Value)[] parameters, CancellationToken cancellationToken)
    {
        var command = Command(db, sql, parameters);
        await using var disposeCommand = command.ConfigureAwait(false);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<T>> ReadAsync<T>(TContext db, string sql, (string Name, object Value)[] parameters, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var command = Command(db, sql, parameters);
        await using var disposeCommand = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var disposeReader = reader.ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>Runs <paramref name="work"/> in one transaction, committed when it returns.</summary>
    private Task<T> InTransactionAsync<T>(Func<TContext, bool, Task<T>> work, CancellationToken cancellationToken) => QueryAsync(async (db, postgres) =>
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var disposeTransaction = transaction.ConfigureAwait(false);
        var result = await work(db, postgres).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }, cancellationToken);

    /// <summary>Runs one unit of work on a fresh context with its connection open; a database that cannot answer becomes <c>unavailable</c>.</summary>
    private async Task<T> QueryAsync<T>(Func<TContext, bool, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using var disposeDb = db.ConfigureAwait(false);
            await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await work(db, db.Database.GetDbConnection() is NpgsqlConnection).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new ChatException(ChatErrorCodes.Unavailable, "The key directory's database could not be reached; nothing was changed. Retry the request.", ex);
        }
    }

    private static bool IsUnavailable(Exception exception) => exception switch
    {
        DbException or TimeoutException => true,
        InvalidOperationException { InnerException: DbException or TimeoutException } => true,
        _ => false,
    };
}
