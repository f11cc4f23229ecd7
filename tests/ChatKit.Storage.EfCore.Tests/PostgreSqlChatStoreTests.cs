using ChatKit.Core.Tests.Storage;
using ChatKit.Storage.EfCore.Options;
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
}
