namespace ChatKit.Model;

/// <summary>A message accepted for storage, before it has a sequence number.</summary>
/// <param name="RoomId">The room.</param>
/// <param name="ClientMessageId">The sender's own id for the message.</param>
/// <param name="SenderId">The sender's user id.</param>
/// <param name="Body">The text.</param>
/// <param name="SentAt">When the server accepted it.</param>
public sealed record NewMessage(string RoomId, string ClientMessageId, string SenderId, string Body, DateTimeOffset SentAt);
