namespace ChatKit.Engine;

/// <summary>The acknowledgement of a stored message.</summary>
/// <param name="Room">The room.</param>
/// <param name="Seq">The message's sequence number in the room.</param>
/// <param name="Cmid">The client message id.</param>
/// <param name="SentAt">When it was stored.</param>
/// <param name="Duplicate">Whether it had been stored before under the same client message id.</param>
public sealed record SendResult(string Room, long Seq, string Cmid, DateTimeOffset SentAt, bool Duplicate);
