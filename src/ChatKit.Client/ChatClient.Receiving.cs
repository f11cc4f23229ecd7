using System.Net.WebSockets;
using ChatKit.Protocol;

namespace ChatKit.Client;

// The receive loop: replies to their requests, events to the stream, each room's messages once, and the resume positions.
public sealed partial class ChatClient
{
    private async Task ReceiveLoopAsync(ChatConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            while (await connection.ReceiveFrameAsync().ConfigureAwait(false) is { } frame)
            {
                await HandleFrameAsync(connection, frame, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            LogReceiveFailed(_logger, ex, connection.Id);
        }
    }

    private async Task HandleFrameAsync(ChatConnection connection, ServerFrame frame, CancellationToken cancellationToken)
    {
        if (frame.Type is FrameTypes.Reply or FrameTypes.Error)
        {
            // A history page counts as seen before any later frame is read, so no event repeats a message it returned.
            if (frame is { Room: { } pageRoom, Messages: { Count: > 0 } page })
            {
                RaisePosition(pageRoom, page.Max(message => message.Seq));
            }

            if (frame.Re is null)
            {
                LogUnattributedError(_logger, frame.Code, frame.Message);
            }
            else if (!connection.TryComplete(frame.Re, frame))
            {
                LogLateReply(_logger, frame.Re, connection.Id);
            }

            return;
        }

        ChatEvent? chatEvent;
        try
        {
            chatEvent = ServerFrames.ToEvent(frame);
        }
        catch (ChatClientException ex)
        {
            LogMalformedEvent(_logger, ex, frame.Type);
            return;
        }

        if (chatEvent is null)
        {
            LogUnknownEvent(_logger, frame.Type);
            return;
        }

        if (chatEvent is MessageEvent { Message: var message } && _lastSeen.TryGetValue(message.Room, out var seen) && message.Seq <= seen)
        {
            LogAlreadySeen(_logger, message.Room, message.Seq, seen);
            return;
        }

        try
        {
            await _events.Writer.WriteAsync(chatEvent, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closing: events are no longer delivered, but the loop keeps reading until the server answers the close.
            return;
        }

        switch (chatEvent)
        {
            case MessageEvent { Message: var delivered }:
                RaisePosition(delivered.Room, delivered.Seq);
                break;
            case RoomAddedEvent { Info: var room }:
                LowerPosition(room.Id, room.LatestSeq);
                break;
            case RoomRemovedEvent { Room: var room }:
                _lastSeen.TryRemove(room, out _);
                break;
        }
    }

    private void RaisePosition(string room, long seq) =>
        _lastSeen.AddOrUpdate(room, static (_, seq) => seq, static (_, seen, seq) => Math.Max(seen, seq), seq);

    /// <summary>Sets a room's position to the server's latest sequence when it has none or a higher one.</summary>
    private void LowerPosition(string room, long latest) =>
        _lastSeen.AddOrUpdate(room, static (_, latest) => latest, static (_, seen, latest) => Math.Min(seen, latest), latest);
}
