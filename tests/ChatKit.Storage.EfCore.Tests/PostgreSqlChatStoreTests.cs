using ChatKit.Core.Tests.Storage;
using ChatKit.Storage.EfCore.Options;

namespace ChatKit.Storage.EfCore.Tests;

public sealed class PostgreSqlChatStoreTests : ChatStoreSpecification
{
    protected override async Task<IChatStore> CreateStoreAsync()
    {
        var server = await PostgresServer.InstanceAsync();
        return await StoreFactory.CreateAsync(EfCoreStorageProvider.PostgreSql, await server.CreateDatabaseAsync());
    }
}
