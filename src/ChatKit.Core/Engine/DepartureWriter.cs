using System.Threading.Channels;
using ChatKit.Backplane;
using ChatKit.Model;
using ChatKit.Presence;
using ChatKit.Protocol;
using ChatKit.Storage;
using Microsoft.Extensions.Logging;

namespace ChatKit.Engine;

/// <summary>
/// Writes users going offline in batches: whatever departures are waiting get their last seen in one store call and
/// their rooms in one read, then an offline presence frame in each room. When a load balancer drops a node's
/// connections or a node shuts down, thousands of users leave at once; written one by one, each with its own
/// statements, they would queue on the store's connection pool until its wait timed out, and most would be lost.
/// </summary>
/// <remarks>
/// One batch is written at a time, so a mass departure holds one store connection. A user who is online again by the
/// time their batch is written (a reconnect, on this node or another) keeps their last seen but gets no offline
/// frame. A batch whose store calls fail is logged once; its users' offline frames go out when their rooms could be
/// read.
/// </remarks>
internal sealed partial class DepartureWriter(IChatStore store, IPresenceTracker presence, IChatBackplane backplane, ILogger logger)
{
    private const int MaxBatch = 500;

    private readonly Channel<Departure> _queue = Channel.CreateUnbounded<Departure>(new UnboundedChannelOptions { SingleReader = true });
    private int _started;

    /// <summary>Queues a departure; the task completes once it is written and announced, or its failure logged.</summary>
    public Task RecordAsync(string userId, DateTimeOffset lastSeen)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _ = Task.Run(WriteAsync);
        }

        var departure = new Departure(new UserLastSeen(userId, lastSeen));
        _queue.Writer.TryWrite(departure);
        return departure.Done.Task;
    }

    private async Task WriteAsync()
    {
        var batch = new List<Departure>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var departure))
            {
                batch.Add(departure);
            }

            try
            {
                await WriteBatchAsync(batch).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogAnnounceFailed(logger, ex, batch.Count);
            }

            foreach (var departure in batch)
            {
                departure.Done.TrySetResult();
            }

            batch.Clear();
        }
    }

    private async Task WriteBatchAsync(List<Departure> batch)
    {
        // A user who left twice before the batch was taken counts once, with the later time.
        var users = new Dictionary<string, UserLastSeen>(batch.Count, StringComparer.Ordinal);
        foreach (var departure in batch)
        {
            var user = departure.User;
            if (!users.TryGetValue(user.UserId, out var kept) || kept.LastSeen < user.LastSeen)
            {
                users[user.UserId] = user;
            }
        }

        try
        {
            await store.SetLastSeenAsync(users.Values, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLastSeenFailed(logger, ex, users.Count);
        }

        var online = await presence.GetOnlineAsync(users.Keys, CancellationToken.None).ConfigureAwait(false);
        var offline = users.Keys.Where(id => !online.Contains(id)).ToList();
        if (offline.Count == 0)
        {
            return;
        }

        var rooms = await store.GetRoomIdsOfUsersAsync(offline, CancellationToken.None).ConfigureAwait(false);
        foreach (var userId in offline)
        {
            if (rooms.TryGetValue(userId, out var roomIds))
            {
                await ChatEngine.PublishPresenceAsync(backplane, userId, roomIds, online: false, users[userId].LastSeen, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "The last seen of {Count} users who went offline could not be stored; their offline presence is announced without it")]
    private static partial void LogLastSeenFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "{Count} users who went offline could not be announced offline in their rooms")]
    private static partial void LogAnnounceFailed(ILogger logger, Exception exception, int count);

    private sealed class Departure(UserLastSeen user)
    {
        public UserLastSeen User { get; } = user;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
