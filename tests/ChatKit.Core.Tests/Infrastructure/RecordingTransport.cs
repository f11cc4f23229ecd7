using System.Threading.Channels;
using ChatKit.Protocol;
using ChatKit.Sessions;

namespace ChatKit.Core.Tests.Infrastructure;

/// <summary>A transport that records every frame a session sends.</summary>
internal sealed class RecordingTransport : IChatTransport
{
    private readonly Channel<ServerFrame> _sent = Channel.CreateUnbounded<ServerFrame>();

    public int? CloseCode { get; private set; }

    public bool Aborted { get; private set; }

    public ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        _sent.Writer.TryWrite(ProtocolJson.ParseServerFrame(frame.Span)!);
        return ValueTask.CompletedTask;
    }

    public ValueTask CloseAsync(int closeCode, string reason, CancellationToken cancellationToken)
    {
        CloseCode = closeCode;
        _sent.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public void Abort()
    {
        Aborted = true;
        _sent.Writer.TryComplete();
    }

    public async Task<ServerFrame> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _sent.Reader.ReadAsync(timeout.Token);
    }

    public async Task<List<ServerFrame>> NextAsync(int count)
    {
        var frames = new List<ServerFrame>();
        for (var i = 0; i < count; i++)
        {
            frames.Add(await NextAsync());
        }

        return frames;
    }
}
