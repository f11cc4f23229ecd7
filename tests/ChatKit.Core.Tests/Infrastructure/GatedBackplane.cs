using System.Collections.Concurrent;
using ChatKit.Backplane;

namespace ChatKit.Core.Tests.Infrastructure;

/// <summary>
/// Behaves like a cross-node backplane seen from one node: a room's traffic arrives only once its subscription is
/// in place, a test decides when each room subscription completes, and it can lose traffic on demand.
/// </summary>
internal sealed class GatedBackplane : IChatBackplane
{
    private readonly ConcurrentDictionary<string, bool> _rooms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _requested = new(StringComparer.Ordinal);

    public IBackplaneReceiver? Receiver { get; set; }

    /// <summary>Rooms whose subscription waits until <see cref="Open"/> is called for them.</summary>
    public HashSet<string> Held { get; } = new(StringComparer.Ordinal);

    /// <summary>While set, every publish is lost.</summary>
    public bool Losing { get; set; }

    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        if (!Losing && (message.Kind != BackplaneMessageKind.RoomFrame || _rooms.ContainsKey(message.Target)))
        {
            Receiver!.Receive(message);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask SubscribeRoomAsync(string roomId, CancellationToken cancellationToken)
    {
        Requested(roomId).TrySetResult();
        if (Held.Contains(roomId))
        {
            await Gate(roomId).Task.WaitAsync(cancellationToken);
        }

        _rooms[roomId] = true;
    }

    public ValueTask UnsubscribeRoomAsync(string roomId, CancellationToken cancellationToken)
    {
        _rooms.TryRemove(roomId, out _);
        return ValueTask.CompletedTask;
    }

    public ValueTask SubscribeUserAsync(string userId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask UnsubscribeUserAsync(string userId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Completes when the node asked for the room's subscription.</summary>
    public Task SubscriptionRequested(string roomId) => Requested(roomId).Task;

    /// <summary>Lets a held room subscription complete.</summary>
    public void Open(string roomId) => Gate(roomId).TrySetResult();

    private TaskCompletionSource Gate(string roomId) => _gates.GetOrAdd(roomId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource Requested(string roomId) => _requested.GetOrAdd(roomId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
}
