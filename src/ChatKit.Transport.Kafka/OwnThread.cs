namespace ChatKit.Transport.Kafka;

/// <summary>
/// The transport's loops run on threads of their own, because Confluent.Kafka's consume calls block. They wait for
/// the store's asynchronous calls in place: that blocks only their own thread, never one of the thread pool's.
/// </summary>
internal static class OwnThread
{
    public static Task Start(Action loop) => Task.Factory.StartNew(loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

#pragma warning disable RS0030 // Blocking is the point here: the caller is a loop's own thread (see Start), not a pool thread.
    public static T Wait<T>(ValueTask<T> work) => work.AsTask().GetAwaiter().GetResult();
#pragma warning restore RS0030
}
