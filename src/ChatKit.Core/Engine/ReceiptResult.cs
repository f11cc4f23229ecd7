namespace ChatKit.Engine;

/// <summary>A user's read state in a room after a receipt.</summary>
/// <param name="Room">The room.</param>
/// <param name="ReadSeq">The read position.</param>
/// <param name="DeliveredSeq">The delivered position.</param>
/// <param name="Unread">Messages after the read position.</param>
public sealed record ReceiptResult(string Room, long ReadSeq, long DeliveredSeq, long Unread);
