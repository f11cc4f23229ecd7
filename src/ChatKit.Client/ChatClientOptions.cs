using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace ChatKit.Client;

/// <summary>
/// Settings of a <see cref="ChatClient"/>. The client checks them when it is created and reads them afterwards:
/// do not change them once the client exists.
/// </summary>
public sealed class ChatClientOptions
{
    /// <summary>The endpoint: a <c>ws://</c> or <c>wss://</c> URL such as <c>ws://127.0.0.1:5000/chat</c>.</summary>
    public required Uri ServerUri { get; set; }

    /// <summary>
    /// Supplies the access token sent as <c>Authorization: Bearer &lt;token&gt;</c>. Called before every connection
    /// attempt, reconnections included, so it can return a refreshed token; <see langword="null"/> or empty sends no
    /// header. An exception it throws counts as a failed attempt.
    /// </summary>
    public Func<CancellationToken, ValueTask<string?>>? AccessTokenProvider { get; set; }

    /// <summary>The wait before the first reconnection attempt; each further attempt doubles it. Default 200 ms.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between reconnection attempts. Default 10 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The random share of each reconnection wait, from 0 (none) to 1: a wait <c>d</c> becomes a random value between
    /// <c>d × (1 − ReconnectJitter)</c> and <c>d</c>, so clients dropped together by a restarting server do not
    /// all come back at the same instant. Default 0.5.
    /// </summary>
    public double ReconnectJitter { get; set; } = 0.5;

    /// <summary>
    /// How long a request may wait for a connection and its turn to be sent, and then, once sent, for its reply; the
    /// handshake has the same limit. A reply later than this means the connection is stuck (replies come in request
    /// order), so the client drops it and reconnects. Default 30 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many times <see cref="ChatClient.SendAsync"/> tries to send a message, always with the same client message
    /// id, when the connection drops, the reply times out, or the server answers <c>rate_limited</c> or
    /// <c>unavailable</c>. Default 5.
    /// </summary>
    public int MaxSendAttempts { get; set; } = 5;

    /// <summary>
    /// How many events the client holds for <see cref="ChatClient.ReadEventsAsync"/>. Default 10,000.
    /// </summary>
    /// <remarks>
    /// When the buffer is full the client stops reading the socket until the application reads an event: nothing
    /// is dropped, but replies wait behind the events too, so a request awaited while the buffer is full waits
    /// until it times out. A server whose outbound buffer fills meanwhile closes the connection (4008); the client
    /// then reconnects and the missed messages are sent again on resume.
    /// </remarks>
    public int EventBufferCapacity { get; set; } = 10_000;

    /// <summary>
    /// Resume positions to start from: for each room, the highest sequence number the application has already seen,
    /// typically a saved copy of <see cref="ChatClient.LastSeenSequences"/>. The first connection then receives exactly
    /// the messages missed since. Rooms left out start live.
    /// </summary>
    public IReadOnlyDictionary<string, long>? InitialResume { get; set; }

    /// <summary>
    /// How often the socket sends a WebSocket ping to check that the server still answers
    /// (<see cref="ClientWebSocketOptions.KeepAliveInterval"/>). Default 15 s.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long the socket waits for the server's pong before it considers the connection dead and the client
    /// reconnects (<see cref="ClientWebSocketOptions.KeepAliveTimeout"/>). Default 15 s.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The clock for timeouts and reconnection delays. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Adjusts each new socket's options (certificates, proxy, extra headers) after the client has set the
    /// subprotocol, keep-alive and authorization header.
    /// </summary>
    public Action<ClientWebSocketOptions>? ConfigureWebSocket { get; set; }

    /// <summary>Where the client logs connection changes, retries and ignored frames; nothing is logged when unset.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
