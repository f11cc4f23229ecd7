using System.Threading.Tasks.Sources;

namespace ChatKit.Sessions;

/// <summary>
/// A session's outbound queue: any thread writes, the session's writer loop alone reads. An idle connection's queue is
/// this object and its lock: waiting on an empty queue reuses one waiter, and items go into a queue made with the
/// first of them. (A channel keeps four reusable operations and its reader and writer per instance, about 600 bytes
/// for every connection, idle or not.)
/// </summary>
internal sealed class OutboundQueue : IValueTaskSource<bool>, IThreadPoolWorkItem
{
    private readonly Lock _lock = new();
    private Queue<OutboundItem>? _items;
    private ManualResetValueTaskSourceCore<bool> _waiter;
    private bool _waiting;
    private bool _completed;
    private bool _wakeResult;

    /// <summary>Queues an item; false once the queue is completed.</summary>
    public bool TryWrite(OutboundItem item)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            (_items ??= new Queue<OutboundItem>()).Enqueue(item);
            if (!_waiting)
            {
                return true;
            }

            _waiting = false;
        }

        Wake(true);
        return true;
    }

    /// <summary>Takes no more items; the reader still gets those already queued. Safe to call more than once.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        Wake(false);
    }

    /// <summary>
    /// True when an item can be read, false when the queue is completed and empty. One reader only, which awaits each
    /// wait before the next.
    /// </summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_lock)
        {
            if (_items is { Count: > 0 })
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            _waiter.Reset();
            _waiting = true;
            return new ValueTask<bool>(this, _waiter.Version);
        }
    }

    /// <summary>Takes the oldest item, if any.</summary>
    public bool TryRead(out OutboundItem item)
    {
        lock (_lock)
        {
            if (_items is { Count: > 0 })
            {
                item = _items.Dequeue();
                return true;
            }
        }

        item = default;
        return false;
    }

    /// <summary>
    /// Resumes the waiting reader on the thread pool's global queue, never inside a writer. (The global queue, as a
    /// channel does: a message fanned out to a room wakes its members' writers in the order it reached them, where
    /// the writing thread's own queue would run the last first.) The queue is its own work item: no allocation.
    /// </summary>
    private void Wake(bool result)
    {
        _wakeResult = result;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute() => _waiter.SetResult(_wakeResult);

    bool IValueTaskSource<bool>.GetResult(short token) => _waiter.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _waiter.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _waiter.OnCompleted(continuation, state, token, flags);
}
