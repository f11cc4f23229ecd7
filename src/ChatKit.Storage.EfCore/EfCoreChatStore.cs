using System.Data.Common;
using System.Threading.Channels;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;
using ChatKit.Storage.EfCore.Model;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace ChatKit.Storage.EfCore;

/// <summary>
/// <see cref="IChatStore"/> on EF Core, for any context whose model includes ChatKit's tables
/// (<see cref="ChatKitModelBuilderExtensions.ApplyChatKitModel"/>). Every query is LINQ or parameterized; no SQL
/// is built from strings.
/// </summary>
/// <remarks>
/// Sequences: an append increments the room's <c>last_sequence</c> row and inserts the message in one
/// transaction. The row update serializes appends to one room across every node (PostgreSQL row lock, SQLite
/// write lock), and a transaction that fails rolls its increment back, so sequences stay gap-free and unique. The
/// unique index on (room, client message id) makes a concurrent duplicate fail; it is then answered with the
/// stored message. A database that cannot be reached surfaces as <see cref="ChatException"/> <c>unavailable</c>.
/// </remarks>
/// <typeparam name="TContext">The context: <see cref="ChatKitDbContext"/>, or the host's own.</typeparam>
public sealed class EfCoreChatStore<TContext>(IDbContextFactory<TContext> contexts) : IChatStore
    where TContext : DbContext
{
    private const int MaxBatch = 256;
    private readonly Channel<PendingAppend> _appends = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private int _writerStarted;

    /// <inheritdoc />
    public ValueTask UpsertUserAsync(string userId, string displayName, CancellationToken cancellationToken) => RunAsync(async db =>
    {
        var user = await db.Set<ChatUserRow>().FindAsync([userId], cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            db.Add(new ChatUserRow { Id = userId, DisplayName = displayName });
        }
        else
        {
            user.DisplayName = displayName;
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (IsUniqueViolation(ex))
        {
            // Another connection of the same user inserted it first: that row is as good as ours.
        }
    });

    /// <inheritdoc />
    /// <remarks>
    /// The batch's rows are read in one query and written in one transaction, which changes only their last seen (a display
    /// name written meanwhile is kept).
    /// </remarks>
    public ValueTask SetLastSeenAsync(IReadOnlyCollection<UserLastSeen> users, CancellationToken cancellationToken) => RunAsync(async db =>
    {
        var times = new Dictionary<string, long>(users.Count, StringComparer.Ordinal);
        foreach (var user in users)
        {
            var ms = user.LastSeen.ToUnixTimeMilliseconds();
            times[user.UserId] = times.TryGetValue(user.UserId, out var kept) ? Math.Max(kept, ms) : ms;
        }

        var ids = times.Keys.ToList();
        for (var attempt = 1; ; attempt++)
        {
            var rows = await db.Set<ChatUserRow>().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, StringComparer.Ordinal, cancellationToken).ConfigureAwait(false);
            foreach (var (id, ms) in times)
            {
                if (rows.TryGetValue(id, out var row))
                {
                    row.LastSeenMs = ms;
                }
                else
                {
                    db.Add(new ChatUserRow { Id = id, DisplayName = id, LastSeenMs = ms });
                }
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (DbUpdateException ex) when (attempt == 1 && IsUniqueViolation(ex))
            {
                // A user's first connection inserted the profile meanwhile: read again and update it.
                db.ChangeTracker.Clear();
            }
        }
    });

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UserProfile>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken) => QueryAsync<IReadOnlyList<UserProfile>>(async db =>
    {
        var ids = userIds.ToList();
        var rows = await db.Set<ChatUserRow>().AsNoTracking().Where(u => ids.Contains(u.Id)).ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(ToProfile).ToList();
    });

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UserProfile>> SearchUsersAsync(string prefix, int limit, CancellationToken cancellationToken) => QueryAsync<IReadOnlyList<UserProfile>>(async db =>
    {
        var lower = prefix.ToLowerInvariant();
        var rows = await db.Set<ChatUserRow>().AsNoTracking()
            .Where(u => u.Id.ToLower().StartsWith(lower) || u.DisplayName.ToLower().StartsWith(lower))
            .OrderBy(u => u.Id)
            .Take(limit)
            .ToListAsync(cancellationToken).ConfigureAwait(false);

        // Databases order text by their own collation; ChatKit promises ordinal order.
        return rows.Select(ToProfile).OrderBy(u => u.Id, StringComparer.Ordinal).ToList();
    });

    /// <inheritdoc />
    public ValueTask<bool> CreateRoomAsync(Room room, IReadOnlyList<RoomMember> members, CancellationToken cancellationToken) => QueryAsync(async db =>
    {
        db.Add(new ChatRoomRow
        {
            Id = room.Id,
            Kind = (int)room.Kind,
            Name = room.Name,
            Visibility = (int)room.Visibility,
            CreatedBy = room.CreatedBy,
            CreatedAtMs = room.CreatedAt.ToUnixTimeMilliseconds(),
            Encrypted = room.Encrypted,
        });
        db.AddRange(members.Select(m => new ChatMemberRow { RoomId = room.Id, UserId = m.UserId, Role = (int)m.Role, JoinedAtMs = m.JoinedAt.ToUnixTimeMilliseconds() }));
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DbUpdateException ex) when (IsUniqueViolation(ex))
        {
            return false;
        }
    });

    /// <inheritdoc />
    public ValueTask<Room?> GetRoomAsync(string roomId, CancellationToken cancellationToken) => QueryAsync(async db =>
    {
        var row = await db.Set<ChatRoomRow>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == roomId, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToRoom(row);
    });

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Room>> GetPublicRoomsAsync(int limit, CancellationToken cancellationToken) => QueryAsync<IReadOnlyList<Room>>(async db =>
    {
        var rows = await db.Set<ChatRoomRow>().AsNoTracking()
            .Where(r => r.Visibility == (int)RoomVisibility.Public && r.Kind == (int)RoomKind.Group)
            .OrderByDescending(r => r.CreatedAtMs)
            .ThenBy(r => r.Id)
            .Take(limit)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(ToRoom).ToList();
    });

    /// <inheritdoc />
    public ValueTask<bool> AddMemberAsync(RoomMember member, CancellationToken cancellationToken) => QueryAsync(async db =>
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var _ = transaction.ConfigureAwait(false);
        var latest = await db.Set<ChatRoomRow>().Where(r => r.Id == member.RoomId).Select(r => r.LastSequence).FirstAsync(cancellationToken).ConfigureAwait(false);
        db.Add(new ChatMemberRow
        {
            RoomId = member.RoomId,
            UserId = member.UserId,
            Role = (int)member.Role,
            JoinedAtMs = member.JoinedAt.ToUnixTimeMilliseconds(),
            DeliveredSequence = latest,
            ReadSequence = latest,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DbUpdateException ex) when (IsUniqueViolation(ex))
        {
            return false;
        }
    });

    /// <inheritdoc />
    public ValueTask<bool> RemoveMemberAsync(string roomId, string userId, CancellationToken cancellationToken) => QueryAsync(async db =>
        await db.Set<ChatMemberRow>().Where(m => m.RoomId == roomId && m.UserId == userId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0);

    /// <inheritdoc />
    public ValueTask<RoomMember?> GetMemberAsync(string roomId, string userId, CancellationToken cancellationToken) => QueryAsync(async db =>
    {
        var row = await db.Set<ChatMemberRow>().AsNoTracking().FirstOrDefaultAsync(m => m.RoomId == roomId && m.UserId == userId, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToMember(row);
    });

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<MemberState>> GetMembersAsync(string roomId, CancellationToken cancellationToken) => QueryAsync<IReadOnlyList<MemberState>>(async db =>
    {
        var rows = await db.Set<ChatMemberRow>().AsNoTracking().Where(m => m.RoomId == roomId).ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows
            .OrderBy(m => m.JoinedAtMs)
            .ThenBy(m => m.UserId, StringComparer.Ordinal)
            .Select(m => new MemberState(ToMember(m), new ReadState(m.DeliveredSequence, m.ReadSequence)))
            .ToList();
    });

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Membership>> GetMembershipsAsync(string userId, CancellationToken cancellationToken) => QueryAsync<IReadOnlyList<Membership>>(async db =>
    {
        var rows = await db.Set<ChatMemberRow>().AsNoTracking()
            .Where(m => m.UserId == userId)
            .Join(db.Set<ChatRoomRow>(), m => m.RoomId, r => r.Id, (m, r) => new { Member = m, Room = r })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var directIds = rows.Where(x => x.Room.Kind == (int)RoomKind.Direct).Select(x => x.Room.Id).ToList();
        var peers = directIds.Count == 0
            ? []
            : await db.Set<ChatMemberRow>().AsNoTracking()
                .Where(m => directIds.Contains(m.RoomId) && m.UserId != userId)
                .ToDictionaryAsync(m => m.RoomId, m => m.UserId, StringComparer.Ordinal, cancellationToken).ConfigureAwait(false);
        return rows
            .Select(x => new Membership(
                ToRoom(x.Room),
                (MemberRole)x.Member.Role,
                x.Room.LastSequence,
                new ReadState(x.Member.DeliveredSequence, x.Member.ReadSequence),
                peers.GetValueOrDefault(x.Room.Id)))
            .OrderBy(m => m.Room.Id, StringComparer.Ordinal)
            .ToList();
    });

    /// <inheritdoc />
    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<string>>> GetRoomIdsOfUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken) => QueryAsync<IReadOnlyDictionary<string, IReadOnlyList<string>>>(async db =>
    {
        var ids = userIds.ToList();
        var rows = await db.Set<ChatMemberRow>().AsNoTracking()
            .Where(m => ids.Contains(m.UserId))
            .Select(m => new { m.UserId, m.RoomId })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.GroupBy(r => r.UserId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, IReadOnlyList<string> (g) => g.Select(r => r.RoomId).ToList(), StringComparer.Ordinal);
    });

    /// <inheritdoc />
    /// <remarks>
    /// Appends wait in a queue that one writer drains: whatever is waiting goes into one transaction, so under load
    /// many messages share one commit. A batch that meets a concurrent duplicate or a deadlock is retried one message
    /// at a time.
    /// </remarks>
    public ValueTask<AppendResult> AppendMessageAsync(NewMessage message, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _writerStarted, 1) == 0)
        {
            _ = Task.Run(WriteAppendsAsync, CancellationToken.None);
        }

        var pending = new PendingAppend(message);
        _appends.Writer.TryWrite(pending);
        return new ValueTask<AppendResult>(pending.Completion.Task.WaitAsync(cancellationToken));
    }

    private async Task WriteAppendsAsync()
    {
        var batch = new List<PendingAppend>(MaxBatch);
        while (await _appends.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _appends.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            if (await TryAppendBatchAsync(batch).ConfigureAwait(false))
            {
                continue;
            }

            foreach (var pending in batch)
            {
                try
                {
                    pending.Completion.TrySetResult(await AppendOneAsync(pending.Message).ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    pending.Completion.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>
    /// Stores a batch in one transaction; returns <see langword="false"/> when it must be retried message by message.
    /// The first attempt assumes every client message id is new; when one is already stored, the batch runs again
    /// checking for stored ones first.
    /// </summary>
    private async Task<bool> TryAppendBatchAsync(List<PendingAppend> batch)
    {
        var messages = batch.Select(p => p.Message).ToList();
        try
        {
            AppendResult[] results;
            try
            {
                results = await QueryAsync(db => AppendBatchAsync(db, messages, checkStored: false)).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsUniqueViolation(ex))
            {
                results = await QueryAsync(db => AppendBatchAsync(db, messages, checkStored: true)).ConfigureAwait(false);
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(results[i]);
            }

            return true;
        }
        catch (Exception ex) when (IsRetryableAlone(ex))
        {
            return false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(ex);
            }

            return true;
        }
    }

    private static async Task<AppendResult[]> AppendBatchAsync(TContext db, List<NewMessage> messages, bool checkStored)
    {
        var transaction = await db.Database.BeginTransactionAsync().ConfigureAwait(false);
        await using var _ = transaction.ConfigureAwait(false);
        var results = db.Database.GetDbConnection() is NpgsqlConnection connection
            ? await PostgreSqlAppendBatch.AppendAsync(connection, (NpgsqlTransaction)transaction.GetDbTransaction(), messages, checkStored).ConfigureAwait(false)
            : await AppendBatchWithEfAsync(db, messages).ConfigureAwait(false);
        await transaction.CommitAsync().ConfigureAwait(false);
        return results;
    }

    /// <summary>The batch through EF Core, for providers without a set-based path (SQLite writes in-process, so its statements are cheap).</summary>
    private static async Task<AppendResult[]> AppendBatchWithEfAsync(TContext db, List<NewMessage> batch)
    {
        var roomIds = batch.Select(m => m.RoomId).Distinct(StringComparer.Ordinal).ToList();
        var clientIds = batch.Select(m => m.ClientMessageId).Distinct(StringComparer.Ordinal).ToList();
        var stored = (await db.Set<ChatMessageRow>().AsNoTracking()
                .Where(m => roomIds.Contains(m.RoomId) && clientIds.Contains(m.ClientMessageId))
                .ToListAsync().ConfigureAwait(false))
            .ToDictionary(m => (m.RoomId, m.ClientMessageId), ToMessage);
        var plan = AppendPlan.Create(batch, stored);

        var last = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (roomId, indexes) in plan.NewByRoom)
        {
            var count = (long)indexes.Count;
            var counter = await db.Database
                .SqlQuery<long>($"UPDATE chatkit_rooms SET last_sequence = last_sequence + {count} WHERE id = {roomId} RETURNING last_sequence AS \"Value\"")
                .ToListAsync().ConfigureAwait(false);
            if (counter.Count > 0)
            {
                last[roomId] = counter[0];
            }
        }

        plan.AssignSequences(last);
        var rows = plan.NewMessages();
        db.Set<ChatMessageRow>().AddRange(rows.Select(ToRow));
        await db.SaveChangesAsync().ConfigureAwait(false);
        foreach (var read in rows.GroupBy(r => (r.RoomId, r.SenderId)).Select(g => (g.Key.RoomId, g.Key.SenderId, Sequence: g.Max(r => r.Sequence))))
        {
            await db.Set<ChatMemberRow>().Where(m => m.RoomId == read.RoomId && m.UserId == read.SenderId)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.ReadSequence, read.Sequence).SetProperty(m => m.DeliveredSequence, read.Sequence)).ConfigureAwait(false);
        }

        return plan.Results();
    }

    /// <summary>
    /// Why a batch can fail where its messages, retried one at a time, will each get their own answer: a concurrent
    /// duplicate client message id, a deadlock or serialization failure, or a room that does not exist.
    /// </summary>
    private static bool IsRetryableAlone(Exception exception) =>
        exception is KeyNotFoundException || IsUniqueViolation(exception) || Unwrap(exception) is PostgresException
        {
            SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure,
        };

    private static Exception Unwrap(Exception exception) =>
        exception is ChatException or DbUpdateException && exception.InnerException is { } inner ? Unwrap(inner) : exception;

    private ValueTask<AppendResult> AppendOneAsync(NewMessage message) => QueryAsync(async db =>

    {
        var rooms = db.Set<ChatRoomRow>();
        var messages = db.Set<ChatMessageRow>();
        try
        {
            var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false);
            await using var _ = transaction.ConfigureAwait(false);
            var existing = await FindByClientIdAsync(messages, message.RoomId, message.ClientMessageId, CancellationToken.None).ConfigureAwait(false);
            if (existing is not null)
            {
                return new AppendResult(existing, Duplicate: true);
            }

            // The counter row is the room's single writer: updating it first makes appends to one room take turns.
            var updated = await rooms.Where(r => r.Id == message.RoomId)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.LastSequence, r => r.LastSequence + 1), CancellationToken.None).ConfigureAwait(false);
            if (updated == 0)
            {
                throw new KeyNotFoundException($"Room '{message.RoomId}' does not exist.");
            }

            var sequence = await rooms.Where(r => r.Id == message.RoomId).Select(r => r.LastSequence).FirstAsync(CancellationToken.None).ConfigureAwait(false);
            messages.Add(new ChatMessageRow
            {
                RoomId = message.RoomId,
                Sequence = sequence,
                ClientMessageId = message.ClientMessageId,
                SenderId = message.SenderId,
                Body = message.Body,
                SentAtMs = message.SentAt.ToUnixTimeMilliseconds(),
            });
            await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
            await db.Set<ChatMemberRow>().Where(m => m.RoomId == message.RoomId && m.UserId == message.SenderId)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.ReadSequence, sequence).SetProperty(m => m.DeliveredSequence, sequence), CancellationToken.None).ConfigureAwait(false);
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            return new AppendResult(new ChatMessage(message.RoomId, sequence, message.ClientMessageId, message.SenderId, message.Body, DateTimeOffset.FromUnixTimeMilliseconds(message.SentAt.ToUnixTimeMilliseconds())), Duplicate: false);
        }
        catch (DbUpdateException ex) when (IsUniqueViolation(ex))
        {
            // A concurrent send with the same client message id won; its transaction is committed, ours rolled back.
            db.ChangeTracker.Clear();
            var stored = await FindByClientIdAsync(messages, message.RoomId, message.ClientMessageId, CancellationToken.None).ConfigureAwait(false);
            return new AppendResult(stored ?? throw new InvalidOperationException("A unique violation on a client message id that is not stored.", ex), Duplicate: true);
        }
    });

    /// <inheritdoc />
    /// <remarks>
    /// One transaction for the whole list; <see cref="LoggedPlan"/> decides each message's outcome. On PostgreSQL two round
    /// trips (<see cref="PostgreSqlLoggedBatch"/>; the first try assumes the list's client message ids are new, and a
    /// stored one sends the list through again looking them up); elsewhere a few EF Core statements per list.
    /// </remarks>
    public async ValueTask<IReadOnlyList<LoggedMessageResult>> StoreLoggedMessagesAsync(IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        try
        {
            return await QueryAsync(db => StoreLoggedAsync(db, messages, checkStored: false, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUniqueViolation(ex))
        {
            return await QueryAsync(db => StoreLoggedAsync(db, messages, checkStored: true, cancellationToken)).ConfigureAwait(false);
        }
    }

    private static async Task<IReadOnlyList<LoggedMessageResult>> StoreLoggedAsync(TContext db, IReadOnlyList<ChatMessage> messages, bool checkStored, CancellationToken cancellationToken)
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var _ = transaction.ConfigureAwait(false);
        var results = db.Database.GetDbConnection() is NpgsqlConnection connection
            ? await PostgreSqlLoggedBatch.StoreAsync(connection, (NpgsqlTransaction)transaction.GetDbTransaction(), messages, checkStored).ConfigureAwait(false)
            : await StoreLoggedWithEfAsync(db, messages, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>Logged messages through EF Core, for providers without a set-based path (SQLite writes in-process).</summary>
    private static async Task<IReadOnlyList<LoggedMessageResult>> StoreLoggedWithEfAsync(TContext db, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        var rooms = db.Set<ChatRoomRow>();
        var rows = db.Set<ChatMessageRow>();
        var roomIds = messages.Select(m => m.RoomId).Distinct(StringComparer.Ordinal).ToList();
        var clientIds = messages.Select(m => m.ClientMessageId).Distinct(StringComparer.Ordinal).ToList();
        var sequences = messages.Select(m => m.Sequence).Distinct().ToList();

        // A no-op update takes the rooms' locks (SQLite: the database's write lock) before anything is read.
        await rooms.Where(r => roomIds.Contains(r.Id)).ExecuteUpdateAsync(u => u.SetProperty(r => r.LastSequence, r => r.LastSequence), cancellationToken).ConfigureAwait(false);
        var latest = await rooms.AsNoTracking().Where(r => roomIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.LastSequence, StringComparer.Ordinal, cancellationToken).ConfigureAwait(false);
        var byClientId = (await rows.AsNoTracking().Where(m => roomIds.Contains(m.RoomId) && clientIds.Contains(m.ClientMessageId)).ToListAsync(cancellationToken).ConfigureAwait(false))
            .ToDictionary(m => (m.RoomId, m.ClientMessageId), ToMessage);
        var bySequence = (await rows.AsNoTracking().Where(m => roomIds.Contains(m.RoomId) && sequences.Contains(m.Sequence)).ToListAsync(cancellationToken).ConfigureAwait(false))
            .ToDictionary(m => (m.RoomId, m.Sequence), ToMessage);

        var plan = new LoggedPlan(latest, byClientId, bySequence);
        var results = plan.Decide(messages);
        if (plan.Stored.Count == 0)
        {
            return results;
        }

        rows.AddRange(plan.Stored.Select(ToRow));
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (room, last) in plan.Counters())
        {
            await rooms.Where(r => r.Id == room).ExecuteUpdateAsync(u => u.SetProperty(r => r.LastSequence, last), cancellationToken).ConfigureAwait(false);
        }

        foreach (var (room, sender, sequence) in plan.Senders())
        {
            await db.Set<ChatMemberRow>().Where(m => m.RoomId == room && m.UserId == sender)
                .ExecuteUpdateAsync(
                    u => u.SetProperty(m => m.ReadSequence, m => m.ReadSequence > sequence ? m.ReadSequence : sequence)
                        .SetProperty(m => m.DeliveredSequence, m => m.DeliveredSequence > sequence ? m.DeliveredSequence : sequence),
                    cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChatMessage>> GetMessagesAsync(string roomId, MessageRange range, CancellationToken cancellationToken) => QueryAsync<IReadOnlyList<ChatMessage>>(async db =>
    {
        if (db.Database.GetDbConnection() is NpgsqlConnection connection)
        {
            await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await PostgreSqlHistory.GetMessagesAsync(connection, roomId, range, cancellationToken).ConfigureAwait(false);
        }

        var after = range.After ?? 0;
        var before = range.Before ?? long.MaxValue;
        var query = db.Set<ChatMessageRow>().AsNoTracking().Where(m => m.RoomId == roomId && m.Sequence > after && m.Sequence < before);
        query = range.FromNewest ? query.OrderByDescending(m => m.Sequence) : query.OrderBy(m => m.Sequence);
        var rows = await query.Take(range.Limit).ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.OrderBy(m => m.Sequence).Select(ToMessage).ToList();
    });

    /// <inheritdoc />
    public ValueTask<long> GetLatestSequenceAsync(string roomId, CancellationToken cancellationToken) => QueryAsync(async db =>
        await db.Set<ChatRoomRow>().AsNoTracking().Where(r => r.Id == roomId).Select(r => r.LastSequence).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public ValueTask<ReadState> AdvanceReadStateAsync(string roomId, string userId, ReceiptKind kind, long sequence, CancellationToken cancellationToken) => QueryAsync(async db =>
    {
        var members = db.Set<ChatMemberRow>().Where(m => m.RoomId == roomId && m.UserId == userId);

        // Conditional updates move positions forward only, atomically, whatever else updates the row.
        var updated = kind == ReceiptKind.Read
            ? await members.ExecuteUpdateAsync(
                s => s.SetProperty(m => m.ReadSequence, m => m.ReadSequence < sequence ? sequence : m.ReadSequence)
                      .SetProperty(m => m.DeliveredSequence, m => m.DeliveredSequence < sequence ? sequence : m.DeliveredSequence),
                cancellationToken).ConfigureAwait(false)
            : await members.ExecuteUpdateAsync(
                s => s.SetProperty(m => m.DeliveredSequence, m => m.DeliveredSequence < sequence ? sequence : m.DeliveredSequence),
                cancellationToken).ConfigureAwait(false);
        if (updated == 0)
        {
            throw new KeyNotFoundException($"User '{userId}' is not a member of room '{roomId}'.");
        }

        var row = await members.AsNoTracking().FirstAsync(cancellationToken).ConfigureAwait(false);
        return new ReadState(row.DeliveredSequence, row.ReadSequence);
    });

    private static async Task<ChatMessage?> FindByClientIdAsync(DbSet<ChatMessageRow> messages, string roomId, string clientMessageId, CancellationToken cancellationToken)
    {
        var row = await messages.AsNoTracking().FirstOrDefaultAsync(m => m.RoomId == roomId && m.ClientMessageId == clientMessageId, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToMessage(row);
    }

    private static bool IsUniqueViolation(Exception exception) => Unwrap(exception) switch
    {
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 1555 or 2067,
        _ => false,
    };

    private static UserProfile ToProfile(ChatUserRow row) =>
        new(row.Id, row.DisplayName, row.LastSeenMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);

    private static Room ToRoom(ChatRoomRow row) =>
        new(row.Id, (RoomKind)row.Kind, row.Name, (RoomVisibility)row.Visibility, row.CreatedBy, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAtMs), row.Encrypted);

    private static RoomMember ToMember(ChatMemberRow row) =>
        new(row.RoomId, row.UserId, (MemberRole)row.Role, DateTimeOffset.FromUnixTimeMilliseconds(row.JoinedAtMs));

    private static ChatMessageRow ToRow(ChatMessage message) => new()
    {
        RoomId = message.RoomId,
        Sequence = message.Sequence,
        ClientMessageId = message.ClientMessageId,
        SenderId = message.SenderId,
        Body = message.Body,
        SentAtMs = message.SentAt.ToUnixTimeMilliseconds(),
    };

    private static ChatMessage ToMessage(ChatMessageRow row) =>
        new(row.RoomId, row.Sequence, row.ClientMessageId, row.SenderId, row.Body, DateTimeOffset.FromUnixTimeMilliseconds(row.SentAtMs));

    private ValueTask RunAsync(Func<TContext, Task> work) => new(QueryAsync(async db =>
    {
        await work(db).ConfigureAwait(false);
        return true;
    }).AsTask());

    /// <summary>Runs one unit of work on a fresh context; a database that cannot answer becomes <c>unavailable</c>.</summary>
    private async ValueTask<T> QueryAsync<T>(Func<TContext, Task<T>> work)
    {
        try
        {
            var db = await contexts.CreateDbContextAsync().ConfigureAwait(false);
            await using var _ = db.ConfigureAwait(false);
            return await work(db).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new ChatException(ChatErrorCodes.Unavailable, "The chat database could not be reached; nothing was changed. Retry the request.", ex);
        }
    }

    private static bool IsUnavailable(Exception exception) => exception switch
    {
        DbUpdateException { InnerException: DbException } => true,
        NpgsqlException => true,
        SqliteException => true,
        InvalidOperationException { InnerException: DbException or TimeoutException } => true,
        TimeoutException => true,
        DbException => true,
        _ => false,
    };
}
