using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatKit.Backplane.Redis.Options;

internal sealed class RedisBackplaneOptionsValidator : IValidateOptions<RedisBackplaneOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisBackplaneOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            errors.Add("ChatKit:Redis:ConnectionString is required, for example \"localhost:6379\" or \"redis:6379,password=...\".");
        }
        else
        {
            try
            {
                if (ConfigurationOptions.Parse(options.ConnectionString).EndPoints.Count == 0)
                {
                    errors.Add($"ChatKit:Redis:ConnectionString names no server (it is \"{Redact(options.ConnectionString)}\"); start it with host:port, for example \"localhost:6379\".");
                }
            }
            catch (ArgumentException ex)
            {
                errors.Add($"ChatKit:Redis:ConnectionString is not a StackExchange.Redis connection string: {ex.Message}");
            }
        }

        if (string.IsNullOrEmpty(options.ChannelPrefix) || options.ChannelPrefix.Length > 64 || !options.ChannelPrefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            errors.Add($"ChatKit:Redis:ChannelPrefix must be 1 to 64 letters, digits, '-', '_' or '.' (it is \"{options.ChannelPrefix}\").");
        }

        if (options.PresenceHeartbeat < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"ChatKit:Redis:PresenceHeartbeat must be at least 100 ms, such as \"00:00:05\" (it is {options.PresenceHeartbeat}).");
        }

        if (options.PresenceExpiry < options.PresenceHeartbeat * 2)
        {
            errors.Add($"ChatKit:Redis:PresenceExpiry ({options.PresenceExpiry}) must be at least twice ChatKit:Redis:PresenceHeartbeat ({options.PresenceHeartbeat}), so one late heartbeat does not take a node's users offline.");
        }

        if (options.ConnectTimeout < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"ChatKit:Redis:ConnectTimeout must be at least 100 ms, such as \"00:00:05\" (it is {options.ConnectTimeout}).");
        }

        if (options.CommandTimeout < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"ChatKit:Redis:CommandTimeout must be at least 100 ms, such as \"00:00:05\" (it is {options.CommandTimeout}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>The connection string without its password, for messages.</summary>
    internal static string Redact(string connectionString) =>
        string.Join(',', connectionString.Split(',').Select(part => part.TrimStart().StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=***" : part));
}
