using ChatKit.Storage.EfCore.Migrations;
using ChatKit.Storage.EfCore.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Storage.EfCore.Tests;

/// <summary>Builds an <see cref="EfCoreChatStore{TContext}"/> over a new, migrated database.</summary>
internal static class StoreFactory
{
    public static async Task<EfCoreChatStore<ChatKitDbContext>> CreateAsync(EfCoreStorageProvider provider, string connectionString)
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<ChatKitDbContext>(options =>
        {
            if (provider == EfCoreStorageProvider.PostgreSql)
            {
                options.UseNpgsql(connectionString);
            }
            else
            {
                options.UseSqlite(connectionString);
            }
        });
        var factory = services.BuildServiceProvider().GetRequiredService<IDbContextFactory<ChatKitDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            await ChatKitSchema.MigrateAsync(db, provider, TimeProvider.System, CancellationToken.None);
        }

        return new EfCoreChatStore<ChatKitDbContext>(factory);
    }

    public static string NewSqliteFile() => Path.Combine(Path.GetTempPath(), $"chatkit-test-{Guid.NewGuid():N}.db");
}
