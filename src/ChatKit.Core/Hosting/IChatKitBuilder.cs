using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Hosting;

/// <summary>
/// Returned by <c>AddChatKit()</c>; adapters hang their registration methods on it
/// (<c>AddChatKit().AddRedisBackplane(...)</c>).
/// </summary>
public interface IChatKitBuilder
{
    /// <summary>The service collection ChatKit is registered in.</summary>
    IServiceCollection Services { get; }
}
