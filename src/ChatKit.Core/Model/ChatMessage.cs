namespace ChatKit.Model;

/// <summary>A stored message.</summary>
/// <param name="RoomId">The room.</param>
/// <param name="Sequence">The message's place in the room's total order: 1, 2, 3, ... with no gap.</param>
/// <param name="ClientMessageId">The sender's own id for the message; unique within the room.</param>
/// <param name="SenderId">The sender's user id.</param>
/// <param name="Body">The text (ciphertext in end-to-end encrypted rooms).</param>
/// <param name="SentAt">When the message was stored.</param>
public sealed record ChatMessage(string RoomId, long Sequence, string ClientMessageId, string SenderId, string Body, DateTimeOffset SentAt);
