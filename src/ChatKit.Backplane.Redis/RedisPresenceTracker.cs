using ChatKit.Presence;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ChatKit.Backplane.Redis;

/// <summary>
/// <see cref="IPresenceTracker"/> across nodes: each node counts its own connections and keeps, in Redis, the set
/// of nodes where each user is connected (<c>{prefix}:presence:user:{id}</c>) and the users of each node
/// (<c>{prefix}:presence:node:{id}</c>). A user is online while their set is not empty.
/// </summary>
/// <remarks>
/// Nodes that die without saying goodbye are removed by the others once their heartbeat is older than
/// <c>PresenceExpiry</c> (see <see cref="RedisNodeService"/>). While Redis is away, a node answers from its own
/// connections.
/// </remarks>
public sealed partial class RedisPresenceTracker : IPresenceTracker
{
    private const string JoinScript = """
        redis.call('SADD', KEYS[1], ARGV[1])
        redis.call('SADD', KEYS[2], ARGV[2])
        return redis.call('SCARD', KEYS[1])
        """;

    private const string LeaveScript = """
        redis.call('SREM', KEYS[1], ARGV[1])
        redis.call('SREM', KEYS[2], ARGV[2])
        return redis.call('SCARD', KEYS[1])
        """;

    private readonly Lock _sync = new();
    private readonly Dictionary<string, int> _local = new(StringComparer.Ordinal);
    private readonly RedisConnection _redis;
    private readonly ILogger<RedisPresenceTracker> _logger;

    /// <summary>Creates the tracker over the node's Redis connection.</summary>
    public RedisPresenceTracker(RedisConnection redis, ILogger<RedisPresenceTracker> logger)
    {
        _redis = redis;
        _logger = logger;
    }

    /// <summary>The users with a connection on this node.</summary>
    internal IReadOnlyList<string> LocalUsers
    {
        get
        {
            lock (_sync)
            {
                return _local.Keys.ToList();
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ConnectedAsync(string userId, string connectionId, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            var count = _local.GetValueOrDefault(userId) + 1;
            _local[userId] = count;
            if (count > 1)
            {
                return false;
            }
        }

        try
        {
            return (long)await _redis.Bounded(_redis.Database.ScriptEvaluateAsync(JoinScript, [UserKey(userId), NodeKey(_redis.NodeId)], [_redis.NodeId, userId])).ConfigureAwait(false) == 1;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPresenceFailed(_logger, ex, userId);
            return true;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> DisconnectedAsync(string userId, string connectionId, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            var count = _local.GetValueOrDefault(userId) - 1;
            if (count > 0)
            {
                _local[userId] = count;
                return false;
            }

            _local.Remove(userId);
        }

        return await LeaveAsync(userId).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlySet<string>> GetOnlineAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var online = new HashSet<string>(StringComparer.Ordinal);
        lock (_sync)
        {
            online.UnionWith(userIds.Where(_local.ContainsKey));
        }

        try
        {
            var database = _redis.Database;
            var counts = await _redis.Bounded(Task.WhenAll(userIds.Select(u => database.SetLengthAsync(UserKey(u))))).ConfigureAwait(false);
            online.UnionWith(userIds.Where((_, i) => counts[i] > 0));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPresenceFailed(_logger, ex, string.Join(',', userIds));
        }

        return online;
    }

    /// <summary>Whether the user has a connection on this node.</summary>
    internal bool IsLocal(string userId)
    {
        lock (_sync)
        {
            return _local.ContainsKey(userId);
        }
    }

    /// <summary>Takes this node out of the user's set; returns whether the set is empty now (the user is offline).</summary>
    internal async Task<bool> LeaveAsync(string userId)
    {
        try
        {
            return (long)await _redis.Bounded(_redis.Database.ScriptEvaluateAsync(LeaveScript, [UserKey(userId), NodeKey(_redis.NodeId)], [_redis.NodeId, userId])).ConfigureAwait(false) == 0;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPresenceFailed(_logger, ex, userId);
            return true;
        }
    }

    internal RedisKey UserKey(string userId) => _redis.Key($"presence:user:{userId}");

    internal RedisKey NodeKey(string nodeId) => _redis.Key($"presence:node:{nodeId}");

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Presence of {UserId} could not be recorded in Redis; this node answers from its own connections until Redis is back")]
    private static partial void LogPresenceFailed(ILogger logger, Exception exception, string userId);
}
