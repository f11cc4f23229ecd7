using ChatKit.Backplane;
using ChatKit.Engine;
using ChatKit.Keys;
using ChatKit.Hosting;
using ChatKit.Messaging;
using ChatKit.Presence;
using ChatKit.Sessions;
using ChatKit.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ChatKit's engine and its in-memory defaults.</summary>
public static class ChatKitCoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the chat engine with in-memory defaults for every port (store, message log, backplane, presence)
    /// and the membership-based room authorizer. Every registration uses <c>TryAdd</c>, so adapters registered
    /// before or after win, and calling this twice is harmless. Options are validated at start.
    /// </summary>
    public static IChatKitBuilder AddChatKitCore(this IServiceCollection services, Action<ChatKitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ChatKitOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChatKitOptions>, ChatKitOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IChatStore, InMemoryChatStore>();
        services.TryAddSingleton<IMessageLog, DirectMessageLog>();
        services.TryAddSingleton<IChatBackplane, InMemoryChatBackplane>();
        services.TryAddSingleton<IPresenceTracker, InMemoryPresenceTracker>();
        services.TryAddSingleton<IRoomAuthorizer, MembershipRoomAuthorizer>();
        services.TryAddSingleton<MembershipRoomAuthorizer>();
        services.TryAddSingleton<RoomMembershipCache>();
        services.TryAddSingleton<ConnectionRegistry>();
        services.TryAddSingleton<IBackplaneReceiver>(sp => sp.GetRequiredService<ConnectionRegistry>());
        services.TryAddSingleton(sp => new Lazy<IChatBackplane>(sp.GetRequiredService<IChatBackplane>));
        services.TryAddSingleton<ChatEngine>();
        services.TryAddSingleton<IKeyDirectoryStore, InMemoryKeyDirectoryStore>();
        services.TryAddSingleton<KeyDirectory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TypingExpiryService>());
        return new ChatKitBuilder(services);
    }

    /// <summary>Replaces the room authorizer with the host's own.</summary>
    public static IChatKitBuilder UseRoomAuthorizer<TAuthorizer>(this IChatKitBuilder builder)
        where TAuthorizer : class, IRoomAuthorizer
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IRoomAuthorizer, TAuthorizer>());
        return builder;
    }
}
