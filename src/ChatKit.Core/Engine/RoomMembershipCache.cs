using System.Collections.Concurrent;
using ChatKit.Model;
using Microsoft.Extensions.Options;

namespace ChatKit.Engine;

/// <summary>
/// This node's memory of rooms and memberships, so the frequent requests (send, history, typing, receipts) do not
/// read the store twice each. Rooms never change once created and are kept; a membership is kept for
/// <see cref="ChatKitOptions.MembershipCacheDuration"/> and only while it exists (a refusal is never remembered).
/// </summary>
/// <remarks>
/// The engine forgets a membership as soon as it removes one, and the connection registry forgets one when the
/// backplane reports that a user left a room, so on every node where the user is connected a removal takes effect
/// at once. The duration bounds the rest: a node that missed the backplane's report, or a membership changed in
/// the database behind ChatKit's back (call <see cref="Forget"/> then). Thread safe.
/// </remarks>
public sealed class RoomMembershipCache
{
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string RoomId, string UserId), (RoomMember Member, DateTimeOffset Expires)> _members = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _duration;
    private long _generation;

    /// <summary>Creates the cache with the engine's options.</summary>
    public RoomMembershipCache(TimeProvider time, IOptions<ChatKitOptions> options)
    {
        _time = time;
        _duration = options.Value.MembershipCacheDuration;
    }

    /// <summary>
    /// Changes on every <see cref="Forget"/>. Read it before loading a membership from the store and pass it to
    /// <see cref="Remember(RoomMember, long)"/>, so a load that raced with a removal is not remembered.
    /// </summary>
    internal long Generation => Interlocked.Read(ref _generation);

    internal bool TryGetRoom(string roomId, out Room room) => _rooms.TryGetValue(roomId, out room!);

    internal void Remember(Room room)
    {
        if (_rooms.Count >= MaxEntries)
        {
            _rooms.Clear();
        }

        _rooms[room.Id] = room;
    }

    internal bool TryGetMember(string roomId, string userId, out RoomMember member)
    {
        if (_members.TryGetValue((roomId, userId), out var entry) && entry.Expires > _time.GetUtcNow())
        {
            member = entry.Member;
            return true;
        }

        member = null!;
        return false;
    }

    internal void Remember(RoomMember member, long generation)
    {
        if (_duration <= TimeSpan.Zero)
        {
            return;
        }

        if (_members.Count >= MaxEntries)
        {
            _members.Clear();
        }

        var key = (member.RoomId, member.UserId);
        _members[key] = (member, _time.GetUtcNow() + _duration);

        // A removal that ran while the membership was being loaded may have been forgotten before it was stored.
        if (Generation != generation)
        {
            _members.TryRemove(key, out _);
        }
    }

    /// <summary>Forgets a user's membership of a room, for example after changing it in the database directly.</summary>
    public void Forget(string roomId, string userId)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        ArgumentNullException.ThrowIfNull(userId);
        Interlocked.Increment(ref _generation);
        _members.TryRemove((roomId, userId), out _);
    }
}
