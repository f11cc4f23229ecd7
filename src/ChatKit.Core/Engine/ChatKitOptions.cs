namespace ChatKit.Engine;

/// <summary>
/// Limits and timings of the chat engine and its connections, bound from configuration section <c>ChatKit</c>
/// and validated at start.
/// </summary>
public sealed class ChatKitOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "ChatKit";

    /// <summary>The largest WebSocket message read; larger ones are discarded with <c>frame_too_large</c>. Default 64 KiB.</summary>
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>The largest message body in UTF-8 bytes. Default 16 KiB. Must be below <see cref="MaxFrameBytes"/>.</summary>
    public int MaxMessageBytes { get; set; } = 16 * 1024;

    /// <summary>The largest history page a client may ask for. Default 200.</summary>
    public int MaxHistoryPageSize { get; set; } = 200;

    /// <summary>The history page size when a client gives none. Default 50.</summary>
    public int DefaultHistoryPageSize { get; set; } = 50;

    /// <summary>How long a typing indicator lasts unless repeated. Default 6 seconds.</summary>
    public TimeSpan TypingTimeout { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>Frames per second a connection may send on average. Default 50.</summary>
    public int RatePerSecond { get; set; } = 50;

    /// <summary>Frames a connection may send at once. Default 100.</summary>
    public int RateBurst { get; set; } = 100;

    /// <summary>
    /// Bytes of frames queued for one connection before it counts as too slow and is closed with 4008.
    /// Bounds the server's memory per connection. Default 1 MiB.
    /// </summary>
    public int MaxOutboundBufferBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long a connection waits for the backplane to carry its channels (at <c>hello</c>, and when it joins a room)
    /// before it goes on without them; it then catches up from the store once they are there. Default 5 seconds.
    /// </summary>
    public TimeSpan BackplaneWaitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a new connection has to send <c>hello</c>. Default 10 seconds.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long closing a connection may wait for the client before the socket is dropped. Default 5 seconds.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a node remembers that a user is a member of a room, sparing the store a read on every send, history
    /// page, typing signal and receipt. Removals made through ChatKit take effect at once on every node where the
    /// user is connected; this bounds how long a removal made elsewhere (directly in the database, or while the
    /// backplane was down) can go unnoticed. Zero turns the memory off. Default 30 seconds.
    /// </summary>
    public TimeSpan MembershipCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest room name in characters. Default 100.</summary>
    public int MaxRoomNameLength { get; set; } = 100;

    /// <summary>Key directory: the most devices with published keys per user. Default 10.</summary>
    public int MaxDevicesPerUser { get; set; } = 10;

    /// <summary>Key directory: the most one-time prekeys held per device. Default 500.</summary>
    public int MaxOneTimePreKeys { get; set; } = 500;

    /// <summary>Key directory: below this many one-time prekeys a device is told to upload more (<c>keys.low</c>). Default 20.</summary>
    public int LowOneTimePreKeys { get; set; } = 20;
}
