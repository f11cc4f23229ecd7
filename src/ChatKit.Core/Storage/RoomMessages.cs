using System.Runtime.InteropServices;
using ChatKit.Model;

namespace ChatKit.Storage;

/// <summary>
/// One room's messages in the in-memory store: where each is in the <see cref="MessageArchive"/> (message n at index
/// n - 1), and its client id's hash to find it by. The caller holds the room's lock.
/// </summary>
/// <remarks>
/// The index keeps no string of the message's: a hash names the message that has it, whose client id is compared
/// in the archive. The rare client id whose hash another one already has goes to a dictionary of its own.
/// </remarks>
internal sealed class RoomMessages(MessageArchive archive, string roomId, Func<string, ulong>? hash = null)
{
    private readonly Func<string, ulong> _hash = hash ?? Fnv1a;
    private readonly List<long> _positions = [];
    private readonly Dictionary<ulong, long> _byHash = [];
    private Dictionary<string, long>? _collided;

    /// <summary>How many messages the room has: the sequence of its newest.</summary>
    public long Count => _positions.Count;

    /// <summary>Stores the room's next message; returns its sequence.</summary>
    public long Add(string clientMessageId, string senderId, string body, DateTimeOffset sentAt)
    {
        _positions.Add(archive.Append(clientMessageId, senderId, body, sentAt));
        var sequence = Count;
        if (!_byHash.TryAdd(_hash(clientMessageId), sequence))
        {
            (_collided ??= new(StringComparer.Ordinal)).Add(clientMessageId, sequence);
        }

        return sequence;
    }

    /// <summary>The sequence of the message with <paramref name="clientMessageId"/>, or 0 when the room has none.</summary>
    public long Find(string clientMessageId)
    {
        if (_byHash.TryGetValue(_hash(clientMessageId), out var sequence) && archive.HasClientId(_positions[(int)sequence - 1], clientMessageId))
        {
            return sequence;
        }

        return _collided is not null && _collided.TryGetValue(clientMessageId, out sequence) ? sequence : 0;
    }

    /// <summary>Message <paramref name="sequence"/> (1 to <see cref="Count"/>).</summary>
    public ChatMessage Get(long sequence) => archive.Read(_positions[(int)sequence - 1], roomId, sequence);

    /// <summary><paramref name="count"/> messages from message <paramref name="first"/> on.</summary>
    public List<ChatMessage> Get(long first, int count) =>
        archive.Read(CollectionsMarshal.AsSpan(_positions).Slice((int)first - 1, count), roomId, first);

    /// <summary>64-bit FNV-1a over the UTF-16 code units.</summary>
    private static ulong Fnv1a(string value)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
