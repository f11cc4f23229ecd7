using System.Collections.Concurrent;

namespace ChatKit.Peers.Ceiling;

/// <summary>This node's rooms, by name; a room exists while it has members here.</summary>
internal sealed class RoomRegistry
{
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);

    public void Join(string name, PeerConnection connection)
    {
        while (!_rooms.GetOrAdd(name, static _ => new Room()).TryAdd(connection))
        {
            // That room emptied and is leaving the dictionary: the next GetOrAdd makes a new one.
            Thread.Yield();
        }
    }

    public void Leave(string name, PeerConnection connection)
    {
        if (_rooms.TryGetValue(name, out var room) && room.Remove(connection))
        {
            _rooms.TryRemove(new KeyValuePair<string, Room>(name, room));
        }
    }

    /// <summary>
    /// Queues a message for the room's members on this node. <paramref name="envelope"/> is the node id followed by the
    /// frame; <paramref name="publish"/>, when given, gets it under the room's lock (or at once when no one here is in it).
    /// </summary>
    public void Deliver(string name, byte[] envelope, Action<byte[]>? publish)
    {
        if (_rooms.TryGetValue(name, out var room))
        {
            room.Deliver(envelope, publish);
        }
        else
        {
            publish?.Invoke(envelope);
        }
    }
}
