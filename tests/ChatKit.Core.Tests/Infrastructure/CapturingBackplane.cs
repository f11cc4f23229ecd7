using ChatKit.Backplane;
using ChatKit.Protocol;

namespace ChatKit.Core.Tests.Infrastructure;

/// <summary>A backplane that records what the engine publishes instead of delivering it.</summary>
internal sealed class CapturingBackplane : IChatBackplane
{
    private readonly List<BackplaneMessage> _published = [];

    public IReadOnlyList<BackplaneMessage> Published
    {
        get
        {
            lock (_published)
            {
                return [.. _published];
            }
        }
    }

    public IEnumerable<ServerFrame> Frames(string type) =>
        Published.Select(m => ProtocolJson.ParseServerFrame(m.Frame.Span)!).Where(f => f.Type == type);

    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        lock (_published)
        {
            _published.Add(message);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask SubscribeRoomAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask UnsubscribeRoomAsync(string roomId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask SubscribeUserAsync(string userId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask UnsubscribeUserAsync(string userId, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
