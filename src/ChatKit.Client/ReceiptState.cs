namespace ChatKit.Client;

/// <summary>The caller's delivered and read positions in a room after a receipt.</summary>
public sealed class ReceiptState
{
    /// <summary>The room id.</summary>
    public required string Room { get; init; }

    /// <summary>The read position: every message up to it is read.</summary>
    public long ReadSeq { get; init; }

    /// <summary>The delivered position: every message up to it reached one of the user's devices.</summary>
    public long DeliveredSeq { get; init; }

    /// <summary>How many messages lie after the read position.</summary>
    public long Unread { get; init; }
}
