namespace ChatKit.Backplane;

/// <summary>
/// Carries traffic to every node that has interested connections. The in-memory default serves one node by
/// handing every message straight to the local <see cref="IBackplaneReceiver"/>; a cross-node backplane
/// (Redis) delivers it to the receiver of each node that subscribed to the message's target.
/// </summary>
/// <remarks>
/// Delivery may be best-effort and may reorder messages between nodes: connections put a room's messages in
/// order and fill gaps from the store, so a lost or late message is never a lost message for the client.
/// Implementations must be thread safe.
/// </remarks>
public interface IChatBackplane
{
    /// <summary>Sends a message to every node subscribed to its target (this node included).</summary>
    ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken);

    /// <summary>This node now has a connection in the room: deliver the room's traffic here.</summary>
    ValueTask SubscribeRoomAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>This node has no connection left in the room.</summary>
    ValueTask UnsubscribeRoomAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>This node now has a connection of the user: deliver the user's traffic here.</summary>
    ValueTask SubscribeUserAsync(string userId, CancellationToken cancellationToken);

    /// <summary>This node has no connection of the user left.</summary>
    ValueTask UnsubscribeUserAsync(string userId, CancellationToken cancellationToken);
}
