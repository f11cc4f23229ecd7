namespace ChatKit.Peers.Ceiling;

/// <summary>The <c>type</c> of a frame.</summary>
internal enum ClientFrameType
{
    Unknown,

    /// <summary><c>{"type":"join","room":"r"}</c> from a client.</summary>
    Join,

    /// <summary><c>{"type":"send","room":"r","body":"..."}</c> from a client.</summary>
    Send,

    /// <summary><c>{"type":"message","room":"r","body":"..."}</c>: what a node sends, read back when it comes from Redis.</summary>
    Message,
}
