using System.Data.Common;
using ChatKit.Encryption;
using ChatKit.Keys;
using ChatKit.Model;
using ChatKit.Storage.EfCore.Options;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ChatKit.Storage.EfCore.Tests;

/// <summary>Encrypted rooms in each database, and databases made before encryption, upgraded by step 0002_encryption.</summary>
public abstract class EncryptedRoomStorageSpecification
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected abstract EfCoreStorageProvider Provider { get; }

    /// <summary>A new, empty database's connection string.</summary>
    protected abstract Task<string> NewDatabaseAsync();

    /// <summary>Step 0001_initial as it was released (a step never changes): what a database made before encryption holds.</summary>
    protected abstract IReadOnlyList<string> InitialSchema { get; }

    protected abstract DbConnection Connect(string connectionString);

    [Fact(Timeout = 60_000)]
    public async Task An_encrypted_room_reads_back_encrypted_and_a_plain_room_plain()
    {
        var services = await EfCoreTestServices.CreateAsync(Provider, await NewDatabaseAsync());
        var store = services.GetRequiredService<IChatStore>();
        var secret = new Room("r_secret", RoomKind.Group, "secret", RoomVisibility.Public, "alice", Now, Encrypted: true);
        var plain = new Room("r_plain", RoomKind.Group, "plain", RoomVisibility.Public, "alice", Now.AddMinutes(1));
        foreach (var room in new[] { secret, plain })
        {
            Assert.True(await store.CreateRoomAsync(room, [new RoomMember(room.Id, "alice", MemberRole.Owner, Now)], CancellationToken.None));
        }

        Assert.Equal(secret, await store.GetRoomAsync("r_secret", CancellationToken.None));
        Assert.Equal(plain, await store.GetRoomAsync("r_plain", CancellationToken.None));
        Assert.Equal([plain, secret], await store.GetPublicRoomsAsync(10, CancellationToken.None));
        Assert.Equal([plain, secret], (await store.GetMembershipsAsync("alice", CancellationToken.None)).Select(m => m.Room));
    }

    [Fact(Timeout = 60_000)]
    public async Task MigrateAsync_upgrades_a_database_made_by_step_0001_and_its_rooms_stay_not_encrypted()
    {
        var connectionString = await NewDatabaseAsync();
        await CreateReleasedDatabaseAsync(connectionString);
        var provider = EfCoreTestServices.Build(Provider, connectionString);

        Assert.Equal(["0002_encryption", "0003_room_for_updates"], await EfCoreTestServices.MigrateAsync(provider, Provider));
        Assert.Empty(await EfCoreTestServices.MigrateAsync(provider, Provider));

        var store = provider.GetRequiredService<IChatStore>();
        var old = new Room("r_old", RoomKind.Group, "before encryption", RoomVisibility.Public, "alice", Now);
        Assert.Equal(old, await store.GetRoomAsync("r_old", CancellationToken.None));
        Assert.Equal(old, Assert.Single(await store.GetMembershipsAsync("alice", CancellationToken.None)).Room);
        Assert.Equal(["hello"], (await store.GetMessagesAsync("r_old", new MessageRange(0, null, 10), CancellationToken.None)).Select(m => m.Body));
        Assert.Equal(2, (await store.AppendMessageAsync(new NewMessage("r_old", "c2", "alice", "after the upgrade", Now), CancellationToken.None)).Message.Sequence);

        var secret = new Room("r_new", RoomKind.Group, "after encryption", RoomVisibility.Private, "alice", Now, Encrypted: true);
        Assert.True(await store.CreateRoomAsync(secret, [new RoomMember(secret.Id, "alice", MemberRole.Owner, Now)], CancellationToken.None));
        Assert.Equal(secret, await store.GetRoomAsync("r_new", CancellationToken.None));

        var keys = provider.GetRequiredService<IKeyDirectoryStore>();
        var phone = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        Assert.Equal(2, await keys.PublishAsync(phone.Identity, phone.SignedPreKey, phone.GenerateOneTimePreKeys(2), CancellationToken.None));
        Assert.Equal(1, (await keys.ClaimBundleAsync("alice", "phone", CancellationToken.None))!.Remaining);
    }

    /// <summary>Runs the released step 0001 by hand and stores a room with a member and a message, as a 0.1 app would have.</summary>
    private async Task CreateReleasedDatabaseAsync(string connectionString)
    {
        var postgres = Provider == EfCoreStorageProvider.PostgreSql;
        await using var connection = Connect(connectionString);
        await connection.OpenAsync();
        var statements = new List<string>
        {
            postgres
                ? "CREATE TABLE chatkit_schema (id varchar(100) NOT NULL PRIMARY KEY, applied_at_ms bigint NOT NULL)"
                : "CREATE TABLE chatkit_schema (id TEXT NOT NULL PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
        };
        statements.AddRange(InitialSchema);
        statements.Add("INSERT INTO chatkit_schema (id, applied_at_ms) VALUES ('0001_initial', 0)");
        var createdAt = Now.ToUnixTimeMilliseconds();
        statements.Add($"INSERT INTO chatkit_rooms (id, kind, name, visibility, created_by, created_at_ms, last_sequence) VALUES ('r_old', 0, 'before encryption', 1, 'alice', {createdAt}, 1)");
        statements.Add($"INSERT INTO chatkit_members (room_id, user_id, role, joined_at_ms, delivered_sequence, read_sequence) VALUES ('r_old', 'alice', 2, {createdAt}, 1, 1)");
        statements.Add($"INSERT INTO chatkit_messages (room_id, sequence, client_message_id, sender_id, body, sent_at_ms) VALUES ('r_old', 1, 'c1', 'alice', 'hello', {createdAt})");
        foreach (var statement in statements)
        {
            await using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Constant test SQL.
            command.CommandText = statement;
#pragma warning restore CA2100
            await command.ExecuteNonQueryAsync();
        }
    }
}

public sealed class SqliteEncryptedRoomStorageTests : EncryptedRoomStorageSpecification
{
    protected override EfCoreStorageProvider Provider => EfCoreStorageProvider.Sqlite;

    protected override IReadOnlyList<string> InitialSchema =>
    [
        "CREATE TABLE chatkit_users (id TEXT NOT NULL PRIMARY KEY, display_name TEXT NOT NULL, last_seen_ms INTEGER NULL)",
        "CREATE TABLE chatkit_rooms (id TEXT NOT NULL PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, visibility INTEGER NOT NULL, created_by TEXT NOT NULL, created_at_ms INTEGER NOT NULL, last_sequence INTEGER NOT NULL)",
        "CREATE INDEX ix_chatkit_rooms_public ON chatkit_rooms (visibility, kind, created_at_ms)",
        "CREATE TABLE chatkit_members (room_id TEXT NOT NULL, user_id TEXT NOT NULL, role INTEGER NOT NULL, joined_at_ms INTEGER NOT NULL, delivered_sequence INTEGER NOT NULL, read_sequence INTEGER NOT NULL, PRIMARY KEY (room_id, user_id))",
        "CREATE INDEX ix_chatkit_members_user ON chatkit_members (user_id, room_id)",
        "CREATE TABLE chatkit_messages (room_id TEXT NOT NULL, sequence INTEGER NOT NULL, client_message_id TEXT NOT NULL, sender_id TEXT NOT NULL, body TEXT NOT NULL, sent_at_ms INTEGER NOT NULL, PRIMARY KEY (room_id, sequence))",
        "CREATE UNIQUE INDEX ux_chatkit_messages_cmid ON chatkit_messages (room_id, client_message_id)",
        "CREATE INDEX ix_chatkit_messages_time ON chatkit_messages (room_id, sent_at_ms)",
    ];

    protected override Task<string> NewDatabaseAsync() => Task.FromResult(EfCoreTestServices.NewSqliteDatabase());

    protected override DbConnection Connect(string connectionString) => new SqliteConnection(connectionString);
}

[Collection(PostgresGroup.Name)]
public sealed class PostgreSqlEncryptedRoomStorageTests(PostgresFixture postgres) : EncryptedRoomStorageSpecification
{
    protected override EfCoreStorageProvider Provider => EfCoreStorageProvider.PostgreSql;

    protected override IReadOnlyList<string> InitialSchema =>
    [
        "CREATE TABLE chatkit_users (id varchar(128) NOT NULL PRIMARY KEY, display_name varchar(100) NOT NULL, last_seen_ms bigint NULL)",
        "CREATE TABLE chatkit_rooms (id varchar(64) NOT NULL PRIMARY KEY, kind integer NOT NULL, name varchar(100) NOT NULL, visibility integer NOT NULL, created_by varchar(128) NOT NULL, created_at_ms bigint NOT NULL, last_sequence bigint NOT NULL)",
        "CREATE INDEX ix_chatkit_rooms_public ON chatkit_rooms (visibility, kind, created_at_ms)",
        "CREATE TABLE chatkit_members (room_id varchar(64) NOT NULL, user_id varchar(128) NOT NULL, role integer NOT NULL, joined_at_ms bigint NOT NULL, delivered_sequence bigint NOT NULL, read_sequence bigint NOT NULL, PRIMARY KEY (room_id, user_id))",
        "CREATE INDEX ix_chatkit_members_user ON chatkit_members (user_id, room_id)",
        "CREATE TABLE chatkit_messages (room_id varchar(64) NOT NULL, sequence bigint NOT NULL, client_message_id varchar(64) NOT NULL, sender_id varchar(128) NOT NULL, body text NOT NULL, sent_at_ms bigint NOT NULL, PRIMARY KEY (room_id, sequence))",
        "CREATE UNIQUE INDEX ux_chatkit_messages_cmid ON chatkit_messages (room_id, client_message_id)",
        "CREATE INDEX ix_chatkit_messages_time ON chatkit_messages (room_id, sent_at_ms)",
    ];

    protected override Task<string> NewDatabaseAsync() => postgres.Server.CreateDatabaseAsync();

    protected override DbConnection Connect(string connectionString) => new NpgsqlConnection(connectionString);
}
