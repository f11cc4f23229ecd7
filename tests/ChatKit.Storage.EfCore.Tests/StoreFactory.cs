using ChatKit.Storage.EfCore.Options;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Storage.EfCore.Tests;

/// <summary>Builds an <see cref="EfCoreChatStore{TContext}"/> over a new, migrated database, registered as <c>AddEfCoreStorage</c> registers it.</summary>
internal static class StoreFactory
{
    public static async Task<EfCoreChatStore<ChatKitDbContext>> CreateAsync(EfCoreStorageProvider provider, string connectionString) =>
        (EfCoreChatStore<ChatKitDbContext>)(await EfCoreTestServices.CreateAsync(provider, connectionString)).GetRequiredService<IChatStore>();

    public static string NewSqliteFile() => Path.Combine(Path.GetTempPath(), $"chatkit-test-{Guid.NewGuid():N}.db");
}
