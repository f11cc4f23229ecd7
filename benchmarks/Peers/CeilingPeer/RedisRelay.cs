using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ChatKit.Peers.Ceiling;

/// <summary>
/// Two or more nodes on one Redis (<c>--redis</c>): every message a node builds is published, as the node id followed by
/// the frame, on one channel that every node subscribes to; a node delivers what others published to its own members
/// of the room and skips its own. The least a cluster can do: no per-room channels, no catch-up after an outage.
/// </summary>
internal sealed partial class RedisRelay : IDisposable
{
    private static readonly RedisChannel Channel = new("chatkit-peers:ceiling", RedisChannel.PatternMode.Literal);

    private readonly ConnectionMultiplexer _redis;
    private readonly ISubscriber _subscriber;
    private readonly RoomRegistry _rooms;
    private readonly ILogger _logger;

    private RedisRelay(ConnectionMultiplexer redis, RoomRegistry rooms, ILogger logger)
    {
        _redis = redis;
        _subscriber = redis.GetSubscriber();
        _rooms = rooms;
        _logger = logger;
        redis.ConnectionFailed += (_, e) => LogConnectionFailed(_logger, e.Exception, e.ConnectionType, e.FailureType);
    }

    /// <summary>This node's id, in front of each message it publishes.</summary>
    public byte[] NodeId { get; } = Guid.NewGuid().ToByteArray();

    /// <summary>Connects and subscribes; throws <see cref="RedisConnectionException"/> when Redis cannot be reached.</summary>
    public static async Task<RedisRelay> ConnectAsync(string endpoint, RoomRegistry rooms, ILogger logger)
    {
        var configuration = ConfigurationOptions.Parse(endpoint);
        configuration.AbortOnConnectFail = true;
        var redis = await ConnectionMultiplexer.ConnectAsync(configuration);

        // In order, one message after the other: the order Redis carried them is the order members here get them.
        redis.PreserveAsyncOrder = true;
        var relay = new RedisRelay(redis, rooms, logger);
        await relay._subscriber.SubscribeAsync(Channel, relay.OnMessage);
        return relay;
    }

    /// <summary>Publishes without waiting: StackExchange.Redis sends publishes in the order they are made.</summary>
    public void Publish(byte[] envelope) => _subscriber.Publish(Channel, envelope, CommandFlags.FireAndForget);

    public void Dispose() => _redis.Dispose();

    private void OnMessage(RedisChannel channel, RedisValue value)
    {
        byte[]? envelope = value;
        if (envelope is null || envelope.Length <= Frames.NodeIdLength || envelope.AsSpan(0, Frames.NodeIdLength).SequenceEqual(NodeId))
        {
            return;
        }

        var room = Frames.RoomOfMessage(envelope.AsSpan(Frames.NodeIdLength));
        if (room is not null)
        {
            _rooms.Deliver(room, envelope, publish: null);
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Lost the Redis {ConnectionType} connection ({FailureType}); messages from other nodes stop until it is back")]
    private static partial void LogConnectionFailed(ILogger logger, Exception? exception, ConnectionType connectionType, ConnectionFailureType failureType);
}
