namespace ChatKit.Protocol;

/// <summary>The limits a server announces in its welcome.</summary>
public sealed class ProtocolLimits
{
    /// <summary>The largest WebSocket message the server reads.</summary>
    public int MaxFrameBytes { get; init; }

    /// <summary>The largest message body, in UTF-8 bytes.</summary>
    public int MaxMessageBytes { get; init; }

    /// <summary>The largest history page.</summary>
    public int MaxHistoryPage { get; init; }

    /// <summary>How long a typing indicator lasts without being repeated.</summary>
    public int TypingTtlMs { get; init; }

    /// <summary>Frames per second allowed on average.</summary>
    public int RatePerSecond { get; init; }

    /// <summary>Frames allowed at once.</summary>
    public int RateBurst { get; init; }
}
