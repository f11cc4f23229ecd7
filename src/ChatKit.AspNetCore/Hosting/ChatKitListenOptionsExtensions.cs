using ChatKit.AspNetCore.WebSockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Serves ChatKit's WebSocket on a Kestrel listener without an HTTP request per connection.</summary>
public static class ChatKitListenOptionsExtensions
{
    /// <summary>
    /// Accepts ChatKit WebSocket handshakes on this listener directly: the chat session runs on the connection itself,
    /// and the HTTP request that would otherwise live as long as the connection is never made, which saves about half
    /// of a server's memory per connected client (docs/architecture.md). A handshake is taken when it is
    /// <c>GET</c> of the path of an <c>app.MapChatKit(...)</c> endpoint offering <c>chatkit.v1</c>, and the app's
    /// default authentication scheme, the endpoint's authorization (or the fallback policy) and ChatKit's own checks
    /// (<c>ChatKit:Server:AllowedOrigins</c>, the user id claim) admit it. Every other connection, refused handshakes
    /// included, goes to HTTP with its bytes unread, so the app's other endpoints and error answers stay as they are.
    /// Middleware before the endpoints (host filtering, forwarded headers, request logging, rate limiting) does not
    /// see the connections taken here. Call it after <c>UseHttps()</c> on the same listener, or on all of them with
    /// <c>ConfigureEndpointDefaults</c>; requires <c>services.AddChatKit()</c>.
    /// </summary>
    /// <param name="listenOptions">The listener.</param>
    /// <returns>The listener, for chaining.</returns>
    public static ListenOptions UseChatKit(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.Use(next => new DirectConnectionMiddleware(next, listenOptions.ApplicationServices).OnConnectionAsync);
        return listenOptions;
    }
}
