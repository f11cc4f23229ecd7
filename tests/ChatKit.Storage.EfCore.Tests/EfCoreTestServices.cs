using ChatKit.Storage.EfCore.Migrations;
using ChatKit.Storage.EfCore.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Storage.EfCore.Tests;

/// <summary>ChatKit's services as an app registers them with <c>AddEfCoreStorage</c>, over a migrated database.</summary>
internal static class EfCoreTestServices
{
    public static async Task<ServiceProvider> CreateAsync(EfCoreStorageProvider provider, string connectionString)
    {
        var built = Build(provider, connectionString);
        await MigrateAsync(built, provider);
        return built;
    }

    /// <summary>The services without touching the database.</summary>
    public static ServiceProvider Build(EfCoreStorageProvider provider, string connectionString)
    {
        var services = new ServiceCollection();

        // The options bind section ChatKit:Storage, empty here, before the values set below.
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddChatKitCore().AddEfCoreStorage(o =>
        {
            o.Provider = provider;
            o.ConnectionString = connectionString;
        });
        return services.BuildServiceProvider();
    }

    /// <summary>Applies the steps the database lacks; returns their ids.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(IServiceProvider services, EfCoreStorageProvider provider)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<ChatKitDbContext>>().CreateDbContextAsync();
        return await ChatKitSchema.MigrateAsync(db, provider, TimeProvider.System, CancellationToken.None);
    }

    public static string NewSqliteDatabase() => $"Data Source={StoreFactory.NewSqliteFile()};Pooling=False";
}
