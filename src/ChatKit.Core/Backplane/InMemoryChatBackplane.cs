namespace ChatKit.Backplane;

/// <summary>
/// The default <see cref="IChatBackplane"/> for a single node: every message goes straight to this node's
/// connections. Subscriptions need no bookkeeping because there is no other node to route from.
/// </summary>
public sealed class InMemoryChatBackplane(IBackplaneReceiver receiver) : IChatBackplane
{
    /// <inheritdoc />
    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        receiver.Receive(message);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask SubscribeRoomAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask UnsubscribeRoomAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask SubscribeUserAsync(string userId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask UnsubscribeUserAsync(string userId, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
