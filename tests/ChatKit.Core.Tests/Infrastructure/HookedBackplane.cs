using ChatKit.Backplane;

namespace ChatKit.Core.Tests.Infrastructure;

/// <summary>Delivers to this node like the in-memory backplane, and lets a test act when a room is subscribed.</summary>
internal sealed class HookedBackplane : IChatBackplane
{
    public IBackplaneReceiver? Receiver { get; set; }

    public Action<string>? OnSubscribeRoom { get; set; }

    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        Receiver!.Receive(message);
        return ValueTask.CompletedTask;
    }

    public ValueTask SubscribeRoomAsync(string roomId, CancellationToken cancellationToken)
    {
        OnSubscribeRoom?.Invoke(roomId);
        return ValueTask.CompletedTask;
    }

    public ValueTask UnsubscribeRoomAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask SubscribeUserAsync(string userId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask UnsubscribeUserAsync(string userId, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
