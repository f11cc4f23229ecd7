using ChatKit.Core.Tests.Storage;
using ChatKit.Keys;
using ChatKit.Storage.EfCore.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Storage.EfCore.Tests;

public sealed class SqliteKeyDirectoryStoreTests : KeyDirectoryStoreSpecification
{
    protected override async Task<IKeyDirectoryStore> CreateStoreAsync() =>
        (await EfCoreTestServices.CreateAsync(EfCoreStorageProvider.Sqlite, EfCoreTestServices.NewSqliteDatabase())).GetRequiredService<IKeyDirectoryStore>();
}

[Collection(PostgresGroup.Name)]
public sealed class PostgreSqlKeyDirectoryStoreTests(PostgresFixture postgres) : KeyDirectoryStoreSpecification
{
    protected override async Task<IKeyDirectoryStore> CreateStoreAsync() =>
        (await EfCoreTestServices.CreateAsync(EfCoreStorageProvider.PostgreSql, await postgres.Server.CreateDatabaseAsync())).GetRequiredService<IKeyDirectoryStore>();
}

/// <summary>The key directory's tables inside a host's own context, created by that context's model (as its migrations would).</summary>
public sealed class HostContextKeyDirectoryStoreTests : KeyDirectoryStoreSpecification
{
    protected override async Task<IKeyDirectoryStore> CreateStoreAsync()
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<HostContextChatStoreTests.HostDbContext>(o => o.UseSqlite(EfCoreTestServices.NewSqliteDatabase()));
        services.AddChatKitCore().AddEfCoreStorage<HostContextChatStoreTests.HostDbContext>();
        var provider = services.BuildServiceProvider();
        await using (var db = await provider.GetRequiredService<IDbContextFactory<HostContextChatStoreTests.HostDbContext>>().CreateDbContextAsync())
        {
            await db.Database.EnsureCreatedAsync();
        }

        return provider.GetRequiredService<IKeyDirectoryStore>();
    }
}

public sealed class EfCoreKeyDirectoryRegistrationTests
{
    [Fact]
    public void AddEfCoreStorage_keeps_the_key_directory_in_the_database_instead_of_memory()
    {
        var own = EfCoreTestServices.Build(EfCoreStorageProvider.Sqlite, "Data Source=unused.db");
        var host = new ServiceCollection();
        host.AddDbContextFactory<HostContextChatStoreTests.HostDbContext>(o => o.UseSqlite("Data Source=unused.db"));
        host.AddChatKitCore().AddEfCoreStorage<HostContextChatStoreTests.HostDbContext>();

        Assert.IsType<EfCoreKeyDirectoryStore<ChatKitDbContext>>(own.GetRequiredService<IKeyDirectoryStore>());
        Assert.IsType<EfCoreKeyDirectoryStore<HostContextChatStoreTests.HostDbContext>>(host.BuildServiceProvider().GetRequiredService<IKeyDirectoryStore>());
        Assert.Single(own.GetServices<IKeyDirectoryStore>());
    }
}
