using ChatKit.Hosting;
using ChatKit.Keys;
using ChatKit.Storage;
using ChatKit.Storage.EfCore;
using ChatKit.Storage.EfCore.Hosting;
using ChatKit.Storage.EfCore.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ChatKit's EF Core storage.</summary>
public static class EfCoreStorageChatKitBuilderExtensions
{
    /// <summary>
    /// Stores rooms, members, messages, read state and the key directory in SQLite or PostgreSQL through ChatKit's own
    /// <see cref="ChatKitDbContext"/>. Options come from configuration section <c>ChatKit:Storage</c>, then
    /// <paramref name="configure"/>, and are validated at start. Set <see cref="EfCoreStorageOptions.ApplyMigrationsAtStart"/>
    /// to have ChatKit create and upgrade its tables when the app starts.
    /// </summary>
    public static IChatKitBuilder AddEfCoreStorage(this IChatKitBuilder builder, Action<EfCoreStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<EfCoreStorageOptions>().BindConfiguration(EfCoreStorageOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EfCoreStorageOptions>, EfCoreStorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        // Pooled: a store call takes a context from the pool and returns it reset, instead of building a new context
        // and its internal service scope every time (about 100 KB of garbage per send on the PostgreSQL paths).
        services.AddPooledDbContextFactory<ChatKitDbContext>((provider, options) =>
        {
            var settings = provider.GetRequiredService<IOptions<EfCoreStorageOptions>>().Value;
            var timeout = (int)settings.CommandTimeout.TotalSeconds;
            if (settings.Provider == EfCoreStorageProvider.PostgreSql)
            {
                options.UseNpgsql(settings.ConnectionString, npgsql => npgsql.CommandTimeout(timeout));
            }
            else
            {
                options.UseSqlite(settings.ConnectionString, sqlite => sqlite.CommandTimeout(timeout));
            }
        });
        services.Replace(ServiceDescriptor.Singleton<IChatStore, EfCoreChatStore<ChatKitDbContext>>());
        services.Replace(ServiceDescriptor.Singleton<IKeyDirectoryStore, EfCoreKeyDirectoryStore<ChatKitDbContext>>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SchemaMigrationService>());
        return builder;
    }

    /// <summary>
    /// Stores ChatKit's data through the host's own context, whose <c>OnModelCreating</c> calls
    /// <c>modelBuilder.ApplyChatKitModel()</c>; register it with <c>AddDbContextFactory&lt;TContext&gt;</c>. The host's
    /// own migrations create the tables.
    /// </summary>
    public static IChatKitBuilder AddEfCoreStorage<TContext>(this IChatKitBuilder builder)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IChatStore, EfCoreChatStore<TContext>>());
        builder.Services.Replace(ServiceDescriptor.Singleton<IKeyDirectoryStore, EfCoreKeyDirectoryStore<TContext>>());
        return builder;
    }
}
