namespace ChatKit.Backplane;

/// <summary>
/// One piece of traffic between nodes: an already-serialized protocol frame and where it goes. Nodes route it
/// by <see cref="Kind"/> and <see cref="Target"/> without decoding the frame.
/// </summary>
/// <param name="Kind">What to do with it.</param>
/// <param name="Target">A room id (<see cref="BackplaneMessageKind.RoomFrame"/>) or a user id (the other kinds).</param>
/// <param name="RoomId">The room a user joined or left, for <see cref="BackplaneMessageKind.RoomJoined"/> and <see cref="BackplaneMessageKind.RoomLeft"/>.</param>
/// <param name="Sequence">For a room's <c>message</c> frame, the message's sequence; for <see cref="BackplaneMessageKind.RoomJoined"/>, the room's latest sequence when the user joined (later messages reach the user); otherwise 0.</param>
/// <param name="Frame">The UTF-8 JSON frame to send to the connections.</param>
public sealed record BackplaneMessage(BackplaneMessageKind Kind, string Target, string? RoomId, long Sequence, ReadOnlyMemory<byte> Frame);
