using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatKit.Backplane.Redis.Tests;

/// <summary>Bad Redis configuration stops the app at start with a message that says what to fix.</summary>
[Collection(RedisGroup.Name)]
public sealed class ConfigurationTests
{
    [Fact(Timeout = 60_000)]
    public async Task An_unreachable_redis_stops_the_start_naming_the_server_and_the_key()
    {
        var port = RedisServer.FreePort();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ChatTestServer.StartAsync(chatKit: kit => kit.AddRedisBackplane(options =>
        {
            options.ConnectionString = $"127.0.0.1:{port}";
            options.ConnectTimeout = TimeSpan.FromSeconds(1);
        })));

        Assert.Contains($"Could not connect to Redis at 127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatKit:Redis:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wrong_password_stops_the_start_saying_redis_refused_the_credentials()
    {
        await using var server = await RedisServer.StartAsync(password: "right-password");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ChatTestServer.StartAsync(chatKit: kit => kit.AddRedisBackplane($"127.0.0.1:{server.Port},password=wrong-password")));

        Assert.Contains("refused ChatKit's credentials", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Missing_or_invalid_settings_are_listed_with_their_keys()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => ChatTestServer.StartAsync(chatKit: kit => kit.AddRedisBackplane(options =>
        {
            options.ChannelPrefix = "has spaces";
            options.PresenceHeartbeat = TimeSpan.FromSeconds(10);
            options.PresenceExpiry = TimeSpan.FromSeconds(5);
        })));

        Assert.Contains("ChatKit:Redis:ConnectionString is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatKit:Redis:ChannelPrefix", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatKit:Redis:PresenceExpiry", error.Message, StringComparison.Ordinal);
    }
}
