using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace ChatKit.AspNetCore.WebSockets;

/// <summary>
/// A connection's pipes as the stream a WebSocket runs on. Disposing it ends a pending read or flush (as disposing a
/// socket's stream does), which is how <c>WebSocket.Abort</c> stops the loops; the connection itself closes when the
/// direct listener returns it to Kestrel.
/// </summary>
internal sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
{
    private volatile bool _disposed;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var result = await pipe.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        var data = result.Buffer;
        if (_disposed || result.IsCanceled)
        {
            // Every read ends with an advance, so the pipe is left as the next reader expects it.
            pipe.Input.AdvanceTo(data.Start);
            ObjectDisposedException.ThrowIf(_disposed, this);
            throw new OperationCanceledException("The read was canceled.");
        }

        // A zero-byte read waits for data and takes none of it.
        var count = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, count).CopyTo(buffer.Span);
        pipe.Input.AdvanceTo(data.GetPosition(count));
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var result = await pipe.Output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        ObjectDisposedException.ThrowIf(_disposed || result.IsCanceled, this);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await pipe.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    // WebSocket reads and writes asynchronously only; blocking here would hold a thread per connection.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read the connection asynchronously.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write to the connection asynchronously.");

    public override void Flush() => throw new NotSupportedException("Flush the connection asynchronously.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            pipe.Input.CancelPendingRead();
            pipe.Output.CancelPendingFlush();
        }

        base.Dispose(disposing);
    }
}
