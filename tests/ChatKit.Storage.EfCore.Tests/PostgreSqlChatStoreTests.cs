using ChatKit.Core.Tests.Storage;
using ChatKit.Storage.EfCore.Options;

namespace ChatKit.Storage.EfCore.Tests;

[Collection(PostgresGroup.Name)]
public sealed class PostgreSqlChatStoreTests(PostgresFixture postgres) : ChatStoreSpecification
{
    protected override async Task<IChatStore> CreateStoreAsync() =>
        await StoreFactory.CreateAsync(EfCoreStorageProvider.PostgreSql, await postgres.Server.CreateDatabaseAsync());
}
