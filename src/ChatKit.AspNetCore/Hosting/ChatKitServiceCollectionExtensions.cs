using ChatKit.AspNetCore.Authentication;
using ChatKit.AspNetCore.Health;
using ChatKit.AspNetCore.Hosting;
using ChatKit.AspNetCore.Http;
using ChatKit.AspNetCore.WebSockets;
using ChatKit.Engine;
using ChatKit.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ChatKit in an ASP.NET Core app.</summary>
public static class ChatKitServiceCollectionExtensions
{
    /// <summary>
    /// Registers ChatKit with in-memory defaults: the engine (options bound from configuration section <c>ChatKit</c>),
    /// the WebSocket and HTTP endpoints (options from <c>ChatKit:Server</c>) and the <c>chatkit</c> health check.
    /// Map the endpoints with <c>app.MapChatKit("/chat")</c>. Safe to call twice. Options are validated at start.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Changes the engine options after configuration is applied.</param>
    /// <returns>A builder that adapters (storage, backplane, log) extend.</returns>
    public static IChatKitBuilder AddChatKit(this IServiceCollection services, Action<ChatKitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(ChatWebSocketHandler)))
        {
            return services.AddChatKitCore(configure);
        }

        // Configuration first, so the configure delegate (code) has the last word.
        services.AddOptions<ChatKitOptions>().BindConfiguration(ChatKitOptions.SectionName);
        var builder = services.AddChatKitCore(configure);
        services.AddOptions<ChatKitServerOptions>().BindConfiguration(ChatKitServerOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChatKitServerOptions>, ChatKitServerOptionsValidator>());
        services.TryAddSingleton<ChatUserResolver>();
        services.TryAddSingleton<ChatWebSocketHandler>();
        services.TryAddSingleton<ChatHttpEndpoints>();
        services.AddHealthChecks().AddCheck<ChatKitHealthCheck>("chatkit", tags: ["chatkit"]);
        return builder;
    }

    /// <summary>Changes how users are read from claims and how sockets are kept alive.</summary>
    public static IChatKitBuilder ConfigureServer(this IChatKitBuilder builder, Action<ChatKitServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure(configure);
        return builder;
    }
}
