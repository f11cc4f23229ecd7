namespace ChatKit.Engine;

/// <summary>
/// Who is typing where on this node, and until when. Indicators are kept on the node the typing user is
/// connected to; <see cref="TakeExpired"/> hands back the ones that ran out so the engine can announce it.
/// </summary>
internal sealed class TypingTracker
{
    private readonly Dictionary<(string Room, string User), DateTimeOffset> _until = [];
    private readonly Lock _sync = new();

    /// <summary>Starts or extends an indicator; returns <see langword="true"/> when it was not active before.</summary>
    public bool Start(string roomId, string userId, DateTimeOffset until)
    {
        lock (_sync)
        {
            var started = !_until.ContainsKey((roomId, userId));
            _until[(roomId, userId)] = until;
            return started;
        }
    }

    /// <summary>Ends an indicator; returns <see langword="true"/> when it was active.</summary>
    public bool Stop(string roomId, string userId)
    {
        lock (_sync)
        {
            return _until.Remove((roomId, userId));
        }
    }

    /// <summary>Removes and returns the indicators that ended at or before <paramref name="now"/>.</summary>
    public IReadOnlyList<(string Room, string User)> TakeExpired(DateTimeOffset now)
    {
        lock (_sync)
        {
            if (_until.Count == 0)
            {
                return [];
            }

            var expired = _until.Where(e => e.Value <= now).Select(e => e.Key).ToList();
            foreach (var key in expired)
            {
                _until.Remove(key);
            }

            return expired;
        }
    }
}
