namespace ChatKit.Peers.Ceiling;

/// <summary>
/// A room's connections. Delivery holds the room's lock, so every member gets the room's messages in the same order
/// (the order this node received them), and a message published to Redis under it goes out in that order too.
/// </summary>
internal sealed class Room
{
    private readonly Lock _gate = new();
    private readonly List<PeerConnection> _members = [];
    private bool _removed;

    /// <summary>Adds a member; false when the room emptied and left the registry meanwhile (join a new one).</summary>
    public bool TryAdd(PeerConnection connection)
    {
        lock (_gate)
        {
            if (_removed)
            {
                return false;
            }

            if (!_members.Contains(connection))
            {
                _members.Add(connection);
            }

            return true;
        }
    }

    /// <summary>Removes a member; true when that left the room empty, so it must leave the registry.</summary>
    public bool Remove(PeerConnection connection)
    {
        lock (_gate)
        {
            _members.Remove(connection);
            _removed = _members.Count == 0;
            return _removed;
        }
    }

    /// <summary>
    /// Queues the frame in <paramref name="envelope"/> (after the node id) for every member, then hands the envelope to
    /// <paramref name="publish"/>, all under the room's lock.
    /// </summary>
    public void Deliver(byte[] envelope, Action<byte[]>? publish)
    {
        var frame = envelope.AsMemory(Frames.NodeIdLength);
        lock (_gate)
        {
            foreach (var member in _members)
            {
                member.Enqueue(frame);
            }

            publish?.Invoke(envelope);
        }
    }
}
