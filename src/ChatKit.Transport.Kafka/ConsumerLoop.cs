using Confluent.Kafka;

namespace ChatKit.Transport.Kafka;

/// <summary>A consumer and the loop that reads it on a thread of its own, stopped with the app.</summary>
internal abstract class ConsumerLoop : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Lazy<Task> _stopped;
    private IConsumer<byte[], byte[]>? _consumer;
    private Task? _loop;

    protected ConsumerLoop() => _stopped = new(StopOnceAsync);

    protected IConsumer<byte[], byte[]> Consumer => _consumer ?? throw new InvalidOperationException("The loop has not started.");

    protected CancellationToken Stopping => _stop.Token;

    /// <summary>
    /// Stops the loop, then leaves the consumer group (if any) at once so another node takes over without waiting. A
    /// host may stop its services more than once (an app that calls <c>StopAsync</c> after <c>WaitForShutdownAsync</c>
    /// does): every call after the first waits for the first one.
    /// </summary>
    public Task StopAsync() => _stopped.Value;

    private async Task StopOnceAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            // A loop ends by itself only when stopped; what it threw while stopping must not keep the others running.
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _consumer?.Close();
    }

    public virtual void Dispose()
    {
        _consumer?.Dispose();
        _stop.Dispose();
    }

    protected void Run(IConsumer<byte[], byte[]> consumer)
    {
        _consumer = consumer;
        _loop = OwnThread.Start(Loop);
    }

    /// <summary>Waits <paramref name="delay"/> unless the app stops first.</summary>
    protected void Pause(TimeSpan delay) => _stop.Token.WaitHandle.WaitOne(delay);

    protected abstract void Loop();
}
