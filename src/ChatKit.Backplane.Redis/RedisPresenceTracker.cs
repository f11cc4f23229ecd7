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
/// connections; a user whose arrival or departure could not be written to Redis is written at the node's next
/// heartbeat that reaches it, as the user is then.
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
    private readonly HashSet<string> _unrecorded = new(StringComparer.Ordinal);
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
            return await RecordAsync(userId, online: true).ConfigureAwait(false) == 1;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Unrecorded(ex, userId);
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
        HashSet<string> left;
        lock (_sync)
        {
            online.UnionWith(userIds.Where(_local.ContainsKey));

            // Users who left this node while their departure could not be written: Redis may still list this node for
            // them until the next heartbeat writes it, so only the other nodes count.
            left = userIds.Where(u => _unrecorded.Contains(u) && !_local.ContainsKey(u)).ToHashSet(StringComparer.Ordinal);
        }

        try
        {
            var database = _redis.Database;
            var counts = await _redis.Bounded(Task.WhenAll(userIds.Select(u => left.Contains(u) ? CountOtherNodesAsync(database, u) : database.SetLengthAsync(UserKey(u))))).ConfigureAwait(false);
            online.UnionWith(userIds.Where((_, i) => counts[i] > 0));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPresenceUnread(_logger, ex, userIds.Count);
        }

        return online;
    }

    private async Task<long> CountOtherNodesAsync(IDatabase database, string userId)
    {
        var nodes = await database.SetMembersAsync(UserKey(userId)).ConfigureAwait(false);
        return nodes.Count(n => n != _redis.NodeId);
    }

    /// <summary>How many users' arrival or departure waits to be written to Redis.</summary>
    internal int UnrecordedCount
    {
        get
        {
            lock (_sync)
            {
                return _unrecorded.Count;
            }
        }
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
            return await RecordAsync(userId, online: false).ConfigureAwait(false) == 0;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Unrecorded(ex, userId);
            return true;
        }
    }

    /// <summary>
    /// Writes to Redis the users whose arrival or departure could not be written before, as each is now (on this node
    /// or not); the heartbeat calls it. A user whose state changed while this ran, or who still cannot be written, is
    /// left for the next call.
    /// </summary>
    internal async Task RecordUnrecordedAsync()
    {
        string[] users;
        lock (_sync)
        {
            if (_unrecorded.Count == 0)
            {
                return;
            }

            users = [.. _unrecorded];
            _unrecorded.Clear();
        }

        var recorded = 0;
        Exception? failure = null;
        foreach (var chunk in users.Chunk(500))
        {
            await Task.WhenAll(chunk.Select(async user =>
            {
                var local = IsLocal(user);
                try
                {
                    await RecordAsync(user, local).ConfigureAwait(false);
                    if (IsLocal(user) == local)
                    {
                        Interlocked.Increment(ref recorded);
                        return;
                    }
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    Interlocked.CompareExchange(ref failure, ex, null);
                }

                lock (_sync)
                {
                    _unrecorded.Add(user);
                }
            })).ConfigureAwait(false);
        }

        if (failure is not null)
        {
            LogPresenceStillUnrecorded(_logger, failure, users.Length - recorded, recorded);
        }
        else if (recorded > 0)
        {
            LogPresenceRecorded(_logger, recorded);
        }
    }

    /// <summary>Adds this node to the user's set, or takes it out; returns how many nodes the set has then.</summary>
    private async Task<long> RecordAsync(string userId, bool online) =>
        (long)await _redis.Bounded(_redis.Database.ScriptEvaluateAsync(online ? JoinScript : LeaveScript, [UserKey(userId), NodeKey(_redis.NodeId)], [_redis.NodeId, userId])).ConfigureAwait(false);

    /// <summary>Keeps a user whose presence could not be written for the next heartbeat; warns once per run of failures.</summary>
    private void Unrecorded(Exception exception, string userId)
    {
        bool first;
        lock (_sync)
        {
            first = _unrecorded.Count == 0;
            _unrecorded.Add(userId);
        }

        if (first)
        {
            LogPresenceFailed(_logger, exception, userId);
        }
    }

    internal RedisKey UserKey(string userId) => _redis.Key($"presence:user:{userId}");

    internal RedisKey NodeKey(string nodeId) => _redis.Key($"presence:node:{nodeId}");

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Presence of {UserId} could not be recorded in Redis; this node answers from its own connections, and records the users it could not at its next heartbeat that reaches Redis (no more of these warnings until then)")]
    private static partial void LogPresenceFailed(ILogger logger, Exception exception, string userId);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Presence of {Count} users could not be read from Redis; this node answered from its own connections")]
    private static partial void LogPresenceUnread(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "Presence of {Recorded} users recorded in Redis after earlier failures")]
    private static partial void LogPresenceRecorded(ILogger logger, int recorded);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Warning, Message = "Presence of {Left} users still could not be recorded in Redis ({Recorded} were); they are tried again at the next heartbeat")]
    private static partial void LogPresenceStillUnrecorded(ILogger logger, Exception exception, int left, int recorded);
}
