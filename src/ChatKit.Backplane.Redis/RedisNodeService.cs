using ChatKit.Backplane.Redis.Options;
using ChatKit.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatKit.Backplane.Redis;

/// <summary>
/// The node's life in Redis: connects when the app starts (a Redis that cannot be reached stops the start), then
/// every <c>PresenceHeartbeat</c> records that the node is alive, takes the users of nodes silent for longer than
/// <c>PresenceExpiry</c> offline, and republishes what an outage kept from other nodes.
/// </summary>
public sealed partial class RedisNodeService : IHostedService, IAsyncDisposable
{
    // Puts the node's users back in their sets after Redis lost them (a restart without persistence) or another
    // node took this one for dead; returns the users whose set was empty, who are online again.
    private const string ReassertScript = """
        local back = {}
        for i = 3, #ARGV do
          local key = ARGV[1] .. ':presence:user:' .. ARGV[i]
          if redis.call('SADD', key, ARGV[2]) == 1 and redis.call('SCARD', key) == 1 then
            table.insert(back, ARGV[i])
          end
          redis.call('SADD', KEYS[1], ARGV[i])
        end
        return back
        """;

    // Takes a dead node out of its users' sets; returns the users whose set is empty now, who are offline.
    private const string SweepScript = """
        local gone = {}
        for i = 3, #ARGV do
          local key = ARGV[1] .. ':presence:user:' .. ARGV[i]
          redis.call('SREM', key, ARGV[2])
          if redis.call('SCARD', key) == 0 then
            table.insert(gone, ARGV[i])
          end
        end
        return gone
        """;

    private const int ScriptChunk = 500;

    private readonly RedisConnection _redis;
    private readonly RedisPresenceTracker _presence;
    private readonly RedisChatBackplane _backplane;
    private readonly IServiceProvider _services;
    private readonly RedisBackplaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisNodeService> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private Task _announcing = Task.CompletedTask;

    /// <summary>Creates the service.</summary>
    public RedisNodeService(
        RedisConnection redis,
        RedisPresenceTracker presence,
        RedisChatBackplane backplane,
        IServiceProvider services,
        IOptions<RedisBackplaneOptions> options,
        TimeProvider time,
        ILogger<RedisNodeService> logger)
    {
        _redis = redis;
        _presence = presence;
        _backplane = backplane;
        _services = services;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _redis.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await BeatAsync().ConfigureAwait(false);
        _loop = LoopAsync(_stopping.Token);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        await _announcing.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>
    /// One heartbeat: record this node alive, bring back its users if Redis lost them, record the arrivals and
    /// departures that could not be recorded before, sweep dead nodes, republish.
    /// </summary>
    internal async Task BeatAsync()
    {
        try
        {
            var database = _redis.Database;
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (await database.SortedSetAddAsync(NodesKey, _redis.NodeId, now).ConfigureAwait(false))
            {
                await ReassertAsync(database).ConfigureAwait(false);
            }

            await _presence.RecordUnrecordedAsync().ConfigureAwait(false);
            var cutoff = now - (long)_options.PresenceExpiry.TotalMilliseconds;
            foreach (var dead in await database.SortedSetRangeByScoreAsync(NodesKey, double.NegativeInfinity, cutoff).ConfigureAwait(false))
            {
                await SweepAsync(database, dead!).ConfigureAwait(false);
            }

            await _backplane.RepublishAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever went wrong, the next beat tries again: the loop must outlive any one failure.
            LogHeartbeatFailed(_logger, ex);
        }
    }

    private RedisKey NodesKey => _redis.Key("presence:nodes");

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.PresenceHeartbeat, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await BeatAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task ReassertAsync(IDatabase database)
    {
        foreach (var chunk in _presence.LocalUsers.Chunk(ScriptChunk))
        {
            RedisValue[] arguments = [_options.ChannelPrefix, _redis.NodeId, .. chunk.Select(u => (RedisValue)u)];
            var back = (RedisValue[])(await database.ScriptEvaluateAsync(ReassertScript, [_presence.NodeKey(_redis.NodeId)], arguments).ConfigureAwait(false))!;
            var returned = new List<string>(back.Length);
            foreach (var user in back.Select(v => (string)v!))
            {
                if (_presence.IsLocal(user))
                {
                    returned.Add(user);
                }
                else
                {
                    // The user's last connection closed while the script ran: undo the re-add.
                    await _presence.LeaveAsync(user).ConfigureAwait(false);
                }
            }

            await AnnounceAsync(returned, online: true).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes a dead node's users out of their sets; the node that removes it from the set of nodes does the work. The
    /// users left with no node are announced offline without holding up the heartbeat: a dead node may have had tens
    /// of thousands of users, and a heartbeat that waited for all their departures would come so late that the other
    /// nodes took this node for dead too.
    /// </summary>
    private async Task SweepAsync(IDatabase database, string dead)
    {
        if (string.Equals(dead, _redis.NodeId, StringComparison.Ordinal) || !await database.SortedSetRemoveAsync(NodesKey, dead).ConfigureAwait(false))
        {
            return;
        }

        LogNodeExpired(_logger, dead);
        var nodeKey = _presence.NodeKey(dead);
        var gone = new List<string>();
        foreach (var chunk in (await database.SetMembersAsync(nodeKey).ConfigureAwait(false)).Chunk(ScriptChunk))
        {
            RedisValue[] arguments = [_options.ChannelPrefix, dead, .. chunk];
            var offline = (RedisValue[])(await database.ScriptEvaluateAsync(SweepScript, [], arguments).ConfigureAwait(false))!;
            gone.AddRange(offline.Select(v => (string)v!));
        }

        await database.KeyDeleteAsync(nodeKey).ConfigureAwait(false);

        // The engine writes departures in batches, so announcing them all at once costs a few store calls per batch.
        var announcements = AnnounceAsync(gone, online: false);
        _announcing = _announcing.IsCompleted ? announcements : Task.WhenAll(_announcing, announcements);
    }

    private async Task AnnounceAsync(List<string> userIds, bool online)
    {
        if (userIds.Count == 0)
        {
            return;
        }

        try
        {
            await _services.GetRequiredService<ChatEngine>().AnnouncePresenceAsync(userIds, online, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogAnnounceFailed(_logger, ex, userIds.Count, online ? "online" : "offline");
        }
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Redis heartbeat failed; it is tried again at the next beat")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "Node {NodeId} stopped sending heartbeats; its users are offline unless connected elsewhere")]
    private static partial void LogNodeExpired(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "Announcing {Count} users {Presence} failed")]
    private static partial void LogAnnounceFailed(ILogger logger, Exception exception, int count, string presence);
}
