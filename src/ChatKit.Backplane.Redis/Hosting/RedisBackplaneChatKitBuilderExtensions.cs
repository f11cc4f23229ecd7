using ChatKit.Backplane;
using ChatKit.Backplane.Redis;
using ChatKit.Backplane.Redis.Options;
using ChatKit.Hosting;
using ChatKit.Presence;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ChatKit's Redis backplane.</summary>
public static class RedisBackplaneChatKitBuilderExtensions
{
    /// <summary>
    /// Connects this node to the others through Redis: room and user traffic, and presence across nodes. Options
    /// come from configuration section <c>ChatKit:Redis</c>, then <paramref name="configure"/>, and are validated at
    /// start; the app does not start while Redis cannot be reached.
    /// </summary>
    public static IChatKitBuilder AddRedisBackplane(this IChatKitBuilder builder, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<RedisBackplaneOptions>().BindConfiguration(RedisBackplaneOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisBackplaneOptions>, RedisBackplaneOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton<RedisChatBackplane>();
        services.TryAddSingleton<RedisPresenceTracker>();
        services.Replace(ServiceDescriptor.Singleton<IChatBackplane>(sp => sp.GetRequiredService<RedisChatBackplane>()));
        services.Replace(ServiceDescriptor.Singleton<IPresenceTracker>(sp => sp.GetRequiredService<RedisPresenceTracker>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisNodeService>());
        return builder;
    }

    /// <summary>Connects this node to the others through the Redis at <paramref name="connectionString"/>, such as <c>localhost:6379</c>.</summary>
    public static IChatKitBuilder AddRedisBackplane(this IChatKitBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddRedisBackplane(options => options.ConnectionString = connectionString);
    }
}
