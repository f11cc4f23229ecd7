namespace ChatKit.Backplane.Redis.Options;

/// <summary>How ChatKit nodes reach each other through Redis; bound from configuration section <c>ChatKit:Redis</c>, validated at start.</summary>
public sealed class RedisBackplaneOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "ChatKit:Redis";

    /// <summary>
    /// The StackExchange.Redis connection string, for example <c>localhost:6379</c> or
    /// <c>redis.internal:6379,password=...,ssl=true</c>. Required.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Starts every channel and key ChatKit uses, so several ChatKit deployments can share one Redis. Letters,
    /// digits, <c>-</c>, <c>_</c> and <c>.</c>. Default <c>chatkit</c>.
    /// </summary>
    public string ChannelPrefix { get; set; } = "chatkit";

    /// <summary>How often a node tells Redis it is alive and checks for nodes that are not. Default 5 seconds.</summary>
    public TimeSpan PresenceHeartbeat { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long after its last heartbeat a node counts as dead: its users are then offline unless connected
    /// elsewhere. At least twice <see cref="PresenceHeartbeat"/>. Default 15 seconds.
    /// </summary>
    public TimeSpan PresenceExpiry { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the first connection to Redis may take when the app starts. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a connection's presence update or a presence query waits for Redis before going on with what this
    /// node knows (a hung Redis must not hold up a hello). Default 5 seconds.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
