namespace ChatKit.Presence;

/// <summary>The default <see cref="IPresenceTracker"/>: counts the connections of this node. Thread safe.</summary>
public sealed class InMemoryPresenceTracker : IPresenceTracker
{
    private readonly Dictionary<string, HashSet<string>> _connections = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();

    /// <inheritdoc />
    public ValueTask<bool> ConnectedAsync(string userId, string connectionId, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (!_connections.TryGetValue(userId, out var set))
            {
                set = new HashSet<string>(StringComparer.Ordinal);
                _connections.Add(userId, set);
            }

            return ValueTask.FromResult(set.Add(connectionId) && set.Count == 1);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> DisconnectedAsync(string userId, string connectionId, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (!_connections.TryGetValue(userId, out var set) || !set.Remove(connectionId))
            {
                return ValueTask.FromResult(false);
            }

            if (set.Count > 0)
            {
                return ValueTask.FromResult(false);
            }

            _connections.Remove(userId);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlySet<string>> GetOnlineAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var online = new HashSet<string>(StringComparer.Ordinal);
        lock (_sync)
        {
            foreach (var id in userIds)
            {
                if (_connections.ContainsKey(id))
                {
                    online.Add(id);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlySet<string>>(online);
    }
}
