using Microsoft.Extensions.Logging;

namespace ChatKit.Client;

public sealed partial class ChatClient
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Connected to {ServerUri} as {UserId} on connection {ConnectionId}")]
    private static partial void LogConnected(ILogger logger, Uri serverUri, string userId, string connectionId);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Connection {ConnectionId} lost: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Reconnection attempt {Attempt} in {Delay}")]
    private static partial void LogReconnecting(ILogger logger, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Reconnection attempt {Attempt} failed")]
    private static partial void LogReconnectFailed(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Error, Message = "Stopped reconnecting; the client is disconnected")]
    private static partial void LogGaveUp(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Debug, Message = "Receiving on connection {ConnectionId} stopped")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Warning, Message = "Request {Type} ({RequestId}) got no reply within {Timeout} on connection {ConnectionId}; dropping the connection")]
    private static partial void LogRequestTimedOut(ILogger logger, string? type, string requestId, string connectionId, TimeSpan timeout);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Sending message {Cmid} to room {Room} again after attempt {Attempt} failed with {Code}; waiting {Delay}")]
    private static partial void LogSendRetry(ILogger logger, string cmid, string room, int attempt, string code, TimeSpan delay);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Warning, Message = "The server reported error {Code} about a frame it could not read: {ErrorMessage}")]
    private static partial void LogUnattributedError(ILogger logger, string? code, string? errorMessage);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Debug, Message = "Reply to request {RequestId} on connection {ConnectionId} came after the request stopped waiting")]
    private static partial void LogLateReply(ILogger logger, string requestId, string connectionId);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Ignored a {Type} event the client could not read")]
    private static partial void LogMalformedEvent(ILogger logger, Exception exception, string? type);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Debug, Message = "Ignored event type {Type}, unknown to this client")]
    private static partial void LogUnknownEvent(ILogger logger, string? type);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Debug, Message = "Skipped message {Seq} of room {Room}: the client has seen up to {Seen}")]
    private static partial void LogAlreadySeen(ILogger logger, string room, long seq, long seen);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Information, Message = "Client closed")]
    private static partial void LogClosed(ILogger logger);

    [LoggerMessage(EventId = 6015, Level = LogLevel.Debug, Message = "The server did not answer the close within {Timeout}; the socket was dropped")]
    private static partial void LogCloseTimedOut(ILogger logger, TimeSpan timeout);
}
