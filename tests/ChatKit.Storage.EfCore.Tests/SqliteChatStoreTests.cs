using ChatKit.Core.Tests.Storage;
using ChatKit.Storage.EfCore.Options;

namespace ChatKit.Storage.EfCore.Tests;

public sealed class SqliteChatStoreTests : ChatStoreSpecification
{
    protected override async Task<IChatStore> CreateStoreAsync() =>
        await StoreFactory.CreateAsync(EfCoreStorageProvider.Sqlite, $"Data Source={StoreFactory.NewSqliteFile()};Pooling=False");
}
