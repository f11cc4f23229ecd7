using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ChatKit.Backplane.Redis;

/// <summary>
/// <see cref="IChatBackplane"/> on Redis pub/sub. A room's traffic goes to channel <c>{prefix}:room:{id}</c>, a
/// user's to <c>{prefix}:user:{id}</c>; a node subscribes to a channel only while it has connections that want
/// it, so no node decodes traffic it would drop.
/// </summary>
/// <remarks>
/// <para>
/// A publish reaches this node's own connections at once, then goes to Redis without holding up the caller;
/// envelopes from Redis that this node published are skipped. While Redis is away a node keeps serving its own
/// connections. Redis pub/sub keeps no message for a node that is not listening, so after an outage every node
/// has its connections catch up from the store, and a node republishes, for each room, the newest message it
/// could not publish (a connection that receives it fills the gap before it from the store).
/// </para>
/// <para>
/// Subscriptions follow the registry's state rather than the order of calls: each change to a channel runs
/// alone, then asks the <see cref="IBackplaneReceiver"/> whether the node still wants the channel, so changes
/// that arrive out of order still end in the right state.
/// </para>
/// </remarks>
public sealed partial class RedisChatBackplane : IChatBackplane, IDisposable
{
    private const string Room = "room";
    private const string User = "user";
    private static readonly TimeSpan UnsentSubscribeRetry = TimeSpan.FromMilliseconds(100);

    private readonly RedisConnection _redis;
    private readonly IBackplaneReceiver _receiver;
    private readonly ILogger<RedisChatBackplane> _logger;
    private readonly ConcurrentDictionary<(string Kind, string Id), ChannelState> _channels = new();
    private readonly ConcurrentDictionary<string, BackplaneMessage> _unpublished = new(StringComparer.Ordinal);
    private readonly Action<RedisChannel, RedisValue> _handler;
    private readonly byte[] _origin;

    /// <summary>Creates the backplane over the node's Redis connection.</summary>
    public RedisChatBackplane(RedisConnection redis, IBackplaneReceiver receiver, ILogger<RedisChatBackplane> logger)
    {
        _redis = redis;
        _receiver = receiver;
        _logger = logger;
        _handler = OnMessage;
        _origin = RedisEnvelope.Origin(redis.NodeId);
        _redis.SubscriptionsRestored += OnSubscriptionsRestored;
        _redis.CommandsRestored += OnCommandsRestored;
    }

    /// <inheritdoc />
    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        _receiver.Receive(message);
        _ = PublishRemoteAsync(message);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask SubscribeRoomAsync(string roomId, CancellationToken cancellationToken) => new(SyncAsync(Room, roomId));

    /// <inheritdoc />
    public ValueTask UnsubscribeRoomAsync(string roomId, CancellationToken cancellationToken) => new(SyncAsync(Room, roomId));

    /// <inheritdoc />
    public ValueTask SubscribeUserAsync(string userId, CancellationToken cancellationToken) => new(SyncAsync(User, userId));

    /// <inheritdoc />
    public ValueTask UnsubscribeUserAsync(string userId, CancellationToken cancellationToken) => new(SyncAsync(User, userId));

    /// <inheritdoc />
    public void Dispose()
    {
        _redis.SubscriptionsRestored -= OnSubscriptionsRestored;
        _redis.CommandsRestored -= OnCommandsRestored;
    }

    /// <summary>Publishes what could not be published earlier; the presence heartbeat calls it too.</summary>
    internal async Task RepublishAsync()
    {
        foreach (var roomId in _unpublished.Keys)
        {
            if (_unpublished.TryRemove(roomId, out var message))
            {
                await PublishRemoteAsync(message).ConfigureAwait(false);
            }
        }
    }

    private async Task PublishRemoteAsync(BackplaneMessage message)
    {
        try
        {
            // The node is nearly always subscribed to the channel it publishes to (the sender is a member of the room),
            // so the channel's name is usually made already.
            var kind = message.Kind == BackplaneMessageKind.RoomFrame ? Room : User;
            var channel = _channels.TryGetValue((kind, message.Target), out var state) ? state.Channel : _redis.Channel(kind, message.Target);
            await _redis.Subscriber.PublishAsync(channel, RedisEnvelope.Encode(_origin, message)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException or ObjectDisposedException)
        {
            LogPublishFailed(_logger, ex, message.Kind, message.Target);
            if (message is { Kind: BackplaneMessageKind.RoomFrame, Sequence: > 0 })
            {
                _unpublished.AddOrUpdate(message.Target, message, (_, kept) => kept.Sequence >= message.Sequence ? kept : message);
            }
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue value)
    {
        // An envelope of this node's own came back from Redis: its connections had it at once, so it is dropped.
        switch (RedisEnvelope.Read((byte[])value!, _origin, out var message))
        {
            case RedisEnvelope.Outcome.Message:
                _receiver.Receive(message!);
                break;
            case RedisEnvelope.Outcome.Unreadable:
                LogUnreadable(_logger, channel);
                break;
        }
    }

    /// <summary>Brings one channel's subscription in line with what the node wants now.</summary>
    private async Task SyncAsync(string kind, string id)
    {
        while (true)
        {
            var state = _channels.GetOrAdd((kind, id), static (key, redis) => new ChannelState(redis.Channel(key.Kind, key.Id)), _redis);
            await state.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (state.Retired)
                {
                    continue;
                }

                var wanted = Wanted(kind, id);
                var channel = state.Channel;
                if (wanted && !state.Subscribed)
                {
                    await _redis.Subscriber.SubscribeAsync(channel, _handler).ConfigureAwait(false);
                    if (!await SentAsync(kind, id, channel).ConfigureAwait(false))
                    {
                        continue;
                    }

                    state.Subscribed = true;
                }
                else if (!wanted && state.Subscribed)
                {
                    await _redis.Subscriber.UnsubscribeAsync(channel, _handler).ConfigureAwait(false);
                    state.Subscribed = false;
                }

                if (!wanted && !state.Subscribed)
                {
                    state.Retired = true;
                    _channels.TryRemove(new KeyValuePair<(string, string), ChannelState>((kind, id), state));
                }

                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Redis is away: the subscription is made when the connection is back (OnSubscriptionsRestored).
                // StackExchange.Redis keeps a handler whose SUBSCRIBE failed and subscribes it again by itself on
                // reconnecting; with ours added then too, every message would come twice. Take it out now (locally;
                // the UNSUBSCRIBE it sends is allowed to fail).
                LogSubscribeFailed(_logger, ex, kind, id);
                if (!state.Subscribed)
                {
                    Abandon(state.Channel);
                }

                return;
            }
            finally
            {
                state.Gate.Release();
            }
        }
    }

    /// <summary>
    /// Makes sure a completed subscribe reached a server. StackExchange.Redis 1.2.6 completes a subscribe made while it
    /// has no subscription connection to use (Redis away, or a connection still being made) without sending it, and
    /// may never send it later; such a subscribe is made again until a server has it. Returns <see langword="false"/>
    /// when the node stopped wanting the channel meanwhile (the caller then takes stock again).
    /// </summary>
    private async Task<bool> SentAsync(string kind, string id, RedisChannel channel)
    {
        while (_redis.Subscriber.SubscribedEndpoint(channel) is null)
        {
            await Task.Delay(UnsentSubscribeRetry).ConfigureAwait(false);
            if (_redis.Subscriber.SubscribedEndpoint(channel) is not null)
            {
                break;
            }

            Abandon(channel);
            if (!Wanted(kind, id))
            {
                return false;
            }

            await _redis.Subscriber.SubscribeAsync(channel, _handler).ConfigureAwait(false);
        }

        return true;
    }

    private bool Wanted(string kind, string id) => string.Equals(kind, Room, StringComparison.Ordinal) ? _receiver.HasRoom(id) : _receiver.HasUser(id);

    /// <summary>Takes this node's handler for a channel whose subscription failed out of StackExchange.Redis.</summary>
    private void Abandon(RedisChannel channel) => _redis.Subscriber.Unsubscribe(channel, _handler, CommandFlags.FireAndForget);

    private void OnSubscriptionsRestored(object? sender, EventArgs e) => _ = RestoreSubscriptionsAsync();

    private async Task RestoreSubscriptionsAsync()
    {
        // StackExchange.Redis resubscribes what it had; channels whose subscription failed meanwhile are made now.
        foreach (var (kind, id) in _channels.Keys)
        {
            await SyncAsync(kind, id).ConfigureAwait(false);
        }

        _receiver.Resynchronize();
    }

    private void OnCommandsRestored(object? sender, EventArgs e) => _ = RepublishAsync();

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Publishing {Kind} for {Target} to Redis failed; other nodes' connections get it from the store once Redis is back")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, BackplaneMessageKind kind, string target);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Subscribing to Redis channel {Kind} {Id} failed; it is made again when the connection is back")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception, string kind, string id);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "An unreadable message arrived on Redis channel {Channel}; it is ignored")]
    private static partial void LogUnreadable(ILogger logger, RedisChannel channel);

    private sealed class ChannelState(RedisChannel channel)
    {
        public RedisChannel Channel { get; } = channel;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public bool Subscribed { get; set; }

        public bool Retired { get; set; }
    }
}
