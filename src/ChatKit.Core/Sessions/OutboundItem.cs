namespace ChatKit.Sessions;

/// <summary>One entry of a session's outbound queue.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="Room">The room, for room items.</param>
/// <param name="Sequence">The message sequence, for <see cref="OutboundKind.RoomMessage"/>; the room's latest sequence when the user joined, for <see cref="OutboundKind.Subscribe"/>; the close code, for <see cref="OutboundKind.Close"/>.</param>
/// <param name="Frame">The serialized frame to send.</param>
/// <param name="State">Extra data: the <see cref="StartRequest"/> for <see cref="OutboundKind.Start"/>, the reason for <see cref="OutboundKind.Close"/>.</param>
internal readonly record struct OutboundItem(OutboundKind Kind, string? Room, long Sequence, ReadOnlyMemory<byte> Frame, object? State);
