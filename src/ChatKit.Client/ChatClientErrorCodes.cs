using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>
/// The <see cref="ChatClientException.Code"/> of failures the client detects itself. Errors the server reports
/// keep the server's code from <see cref="ChatErrorCodes"/>; an HTTP 401 at the handshake is
/// <see cref="ChatErrorCodes.Unauthenticated"/>.
/// </summary>
public static class ChatClientErrorCodes
{
    /// <summary>
    /// The WebSocket could not be opened, or the server closed it before its welcome. When reconnecting, the client
    /// keeps trying after this error.
    /// </summary>
    public const string ConnectionFailed = "connection_failed";

    /// <summary>The connection dropped before the reply arrived: the server may or may not have handled the request.</summary>
    public const string ConnectionLost = "connection_lost";

    /// <summary>
    /// No connection or turn to send, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>. A reply
    /// that is late means the connection is stuck (replies come in request order), so the client drops it and
    /// reconnects.
    /// </summary>
    public const string Timeout = "timeout";

    /// <summary>
    /// The client is disconnected: <see cref="ChatClient.ConnectAsync"/> has not succeeded, or the client gave up
    /// reconnecting; the inner exception, when there is one, says why.
    /// </summary>
    public const string NotConnected = "not_connected";

    /// <summary>
    /// The server does not speak <c>chatkit.v1</c>: it did not accept the subprotocol or closed with 4002. Not retried.
    /// </summary>
    public const string UnsupportedProtocol = "unsupported_protocol";
}
