using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using ChatKit.LoadGen.Measurement;
using ChatKit.LoadGen.Protocols;

namespace ChatKit.LoadGen.Load;

/// <summary>
/// One client connection (one user) of any protocol. Every protocol gets the same machinery: one receive loop with
/// one 4 KiB buffer (grown only for a larger message), bodies found by their marker and timed on arrival, sends
/// serialized by one semaphore, and a table of requests that setup waits for. Only the frames differ.
/// </summary>
internal sealed class Connection : IDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private long _requests;
    private Task _receiving = Task.CompletedTask;
    private volatile bool _closing;

    public Connection(int index, int node, string user, ClientWebSocket socket, WireProtocol protocol, LoadSession session)
    {
        Index = index;
        Node = node;
        User = user;
        _socket = socket;
        Protocol = protocol;
        Session = session;
    }

    public int Index { get; }

    /// <summary>Which of the system's nodes this connection went to (0 for a system of one node).</summary>
    public int Node { get; }

    public string User { get; }

    public WireProtocol Protocol { get; }

    public LoadSession Session { get; }

    /// <summary>Protocol state set during the handshake (a Socket.IO or SignalR connection's own flags).</summary>
    public bool HandshakeDone { get; set; }

    public void StartReceiving() => _receiving = Task.Run(ReceiveLoopAsync);

    public long NextRequestId() => Interlocked.Increment(ref _requests);

    /// <summary>Waits for the answer to request <paramref name="key"/> (an answer that came first is kept for it).</summary>
    public async Task<string> ExpectAsync(string key, TimeSpan timeout)
    {
        var waiter = _pending.GetOrAdd(key, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            return await waiter.Task.WaitAsync(timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{Protocol.Name} connection {User}: no answer to {key} within {timeout.TotalSeconds:N0} s.", e);
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>Hands an answer to whoever waits for <paramref name="key"/> (or keeps it for a wait that comes next).</summary>
    public void Complete(string key, string answer, bool failed)
    {
        var waiter = _pending.GetOrAdd(key, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (failed)
        {
            waiter.TrySetException(new InvalidOperationException($"{Protocol.Name} connection {User}: {key} failed: {answer}"));
        }
        else
        {
            waiter.TrySetResult(answer);
        }
    }

    /// <summary>Sends one text message and waits until the socket took it.</summary>
    public async Task SendAsync(byte[] frame)
    {
        await _sendLock.WaitAsync(_stop.Token);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends without waiting (the open-loop scheduler and pings): a failure counts as an error of the run.</summary>
    public void Post(byte[] frame)
    {
        var sending = SendAsync(frame);
        if (!sending.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(sending);
        }
    }

    /// <summary>Ends the connection at once (no close handshake: thousands end together at the end of a run).</summary>
    public void Dispose()
    {
        _closing = true;
        _stop.Cancel();
        _socket.Abort();
        _socket.Dispose();
        _stop.Dispose();
    }

    public Task Receiving => _receiving;

    private async Task ObserveAsync(Task sending)
    {
        try
        {
            await sending;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            if (!_closing)
            {
                Session.OnError($"{Protocol.Name} connection {User}: send failed: {e.Message}");
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[4096];
        var filled = 0;
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(filled), _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (!_closing)
                    {
                        Session.OnClosed($"{Protocol.Name} connection {User}: closed by the server ({_socket.CloseStatus} {_socket.CloseStatusDescription}).");
                    }

                    return;
                }

                filled += result.Count;
                if (!result.EndOfMessage)
                {
                    if (filled == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    continue;
                }

                Session.OnFrame();
                Protocol.OnMessage(this, buffer.AsSpan(0, filled));
                filled = 0;
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            if (!_closing)
            {
                Session.OnClosed($"{Protocol.Name} connection {User}: {e.Message}");
            }
        }
        finally
        {
            foreach (var waiter in _pending.Values)
            {
                waiter.TrySetException(new InvalidOperationException($"{Protocol.Name} connection {User} ended."));
            }
        }
    }

    /// <summary>Finds every body in <paramref name="text"/> and records it with the current step (the same search for every protocol).</summary>
    public void RecordBodies(ReadOnlySpan<byte> text)
    {
        var recorder = Session.Recorder;
        var now = Stopwatch.GetTimestamp();
        var at = text.IndexOf(MessageBody.Marker);
        while (at >= 0)
        {
            text = text[(at + MessageBody.Marker.Length)..];
            recorder?.OnBody(text, now, Node);
            at = text.IndexOf(MessageBody.Marker);
        }
    }
}
