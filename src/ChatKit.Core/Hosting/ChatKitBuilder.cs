using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Hosting;

internal sealed class ChatKitBuilder(IServiceCollection services) : IChatKitBuilder
{
    public IServiceCollection Services { get; } = services;
}
