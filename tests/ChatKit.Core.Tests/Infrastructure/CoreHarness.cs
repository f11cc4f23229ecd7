using ChatKit.Backplane;
using ChatKit.Engine;
using ChatKit.Sessions;
using ChatKit.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatKit.Core.Tests.Infrastructure;

/// <summary>Core's services wired by its own registration, with a manual clock.</summary>
internal sealed class CoreHarness : IDisposable
{
    private readonly ServiceProvider _services;

    public CoreHarness(Action<ChatKitOptions>? configure = null, IChatBackplane? backplane = null, IChatStore? store = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<TimeProvider>(Time);
        if (backplane is not null)
        {
            services.AddSingleton(backplane);
        }

        if (store is not null)
        {
            services.AddSingleton(store);
        }

        services.AddChatKitCore(configure);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public ManualTimeProvider Time { get; } = new();

    public ChatEngine Engine => _services.GetRequiredService<ChatEngine>();

    public IChatStore Store => _services.GetRequiredService<IChatStore>();

    public ConnectionRegistry Registry => _services.GetRequiredService<ConnectionRegistry>();

    public ChatSession NewSession(Model.ChatUser user, IChatTransport transport) =>
        new(Engine, Registry, user, transport, Time, NullLogger<ChatSession>.Instance);

    public void Dispose() => _services.Dispose();
}
