namespace ChatKit.Presence;

/// <summary>
/// Counts each user's open connections, on every node: a user is online while any connection is. The in-memory
/// default counts this node's connections; a backplane adapter counts across nodes.
/// </summary>
public interface IPresenceTracker
{
    /// <summary>Records an open connection; returns <see langword="true"/> when it is the user's first (the user came online).</summary>
    ValueTask<bool> ConnectedAsync(string userId, string connectionId, CancellationToken cancellationToken);

    /// <summary>Records a closed connection; returns <see langword="true"/> when it was the user's last (the user went offline).</summary>
    ValueTask<bool> DisconnectedAsync(string userId, string connectionId, CancellationToken cancellationToken);

    /// <summary>Which of the given users are online.</summary>
    ValueTask<IReadOnlySet<string>> GetOnlineAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);
}
