using ChatKit.Core.Tests.Storage;
using ChatKit.Model;
using ChatKit.Storage.EfCore.Model;
using ChatKit.Storage.EfCore.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ChatKit.Storage.EfCore.Tests;

[Collection(PostgresGroup.Name)]
public sealed class PostgreSqlChatStoreTests(PostgresFixture postgres) : ChatStoreSpecification
{
    protected override async Task<IChatStore> CreateStoreAsync() =>
        await StoreFactory.CreateAsync(EfCoreStorageProvider.PostgreSql, await postgres.Server.CreateDatabaseAsync());

    [Fact(Timeout = 30_000)]
    public async Task The_tables_every_send_updates_keep_room_on_their_pages_for_updates_that_skip_the_indexes()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        await StoreFactory.CreateAsync(EfCoreStorageProvider.PostgreSql, database);

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT relname, array_to_string(reloptions, ',') FROM pg_class WHERE relname IN ('chatkit_members', 'chatkit_rooms', 'chatkit_messages') ORDER BY relname", connection);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            options[reader.GetString(0)] = reader.IsDBNull(1) ? "" : reader.GetString(1);
        }

        Assert.Equal("fillfactor=70", options["chatkit_members"]);
        Assert.Equal("fillfactor=70", options["chatkit_rooms"]);
        Assert.Equal("", options["chatkit_messages"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_context_back_from_the_pool_holds_nothing_of_its_last_use()
    {
        var services = await EfCoreTestServices.CreateAsync(EfCoreStorageProvider.PostgreSql, await postgres.Server.CreateDatabaseAsync());
        var contexts = services.GetRequiredService<IDbContextFactory<ChatKitDbContext>>();

        // A use that ends without saving or committing (an error in the middle of a store call, say).
        var first = await contexts.CreateDbContextAsync();
        await first.Database.BeginTransactionAsync();
        first.Set<ChatRoomRow>().Add(new ChatRoomRow { Id = "left-behind", Name = "left behind", CreatedBy = "alice" });
        await first.DisposeAsync();

        await using var second = await contexts.CreateDbContextAsync();
        Assert.Same(first, second);
        Assert.Null(second.Database.CurrentTransaction);
        Assert.Empty(second.ChangeTracker.Entries());

        // The store goes on through the same pool, and nothing of the abandoned use reached the database.
        var store = services.GetRequiredService<IChatStore>();
        Assert.True(await store.CreateRoomAsync(new Room("kept", RoomKind.Group, "kept", RoomVisibility.Private, "alice", DateTimeOffset.UnixEpoch), [new RoomMember("kept", "alice", MemberRole.Owner, DateTimeOffset.UnixEpoch)], CancellationToken.None));
        Assert.NotNull(await store.GetRoomAsync("kept", CancellationToken.None));
        Assert.False(await second.Set<ChatRoomRow>().AnyAsync(r => r.Id == "left-behind"));
    }
}
