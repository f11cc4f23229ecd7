using ChatKit.Client;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

/// <summary>Reads a <see cref="ChatClient"/>'s events in the background and lets tests wait for them.</summary>
internal sealed class ClientEvents : IAsyncDisposable
{
    private readonly List<ChatEvent> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClientEvents(ChatClient client)
    {
        _reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var chatEvent in client.ReadEventsAsync(_stop.Token))
                {
                    lock (_events)
                    {
                        _events.Add(chatEvent);
                        _changed.TrySetResult();
                        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    public List<ChatEvent> All
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public List<Protocol.MessageInfo> Messages(string room) =>
        All.OfType<MessageEvent>().Select(e => e.Message).Where(m => m.Room == room).ToList();

    /// <summary>Waits until <paramref name="condition"/> holds over the events seen so far.</summary>
    public async Task WaitUntilAsync(Func<List<ChatEvent>, bool> condition)
    {
        using var timeout = new CancellationTokenSource(RawChatClient.Timeout);
        while (true)
        {
            Task changed;
            lock (_events)
            {
                if (condition(_events))
                {
                    return;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading.WaitAsync(RawChatClient.Timeout);
        _stop.Dispose();
    }
}
