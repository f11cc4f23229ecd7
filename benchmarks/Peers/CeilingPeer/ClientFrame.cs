namespace ChatKit.Peers.Ceiling;

/// <summary>
/// A frame as read: its room as a string (the key of <see cref="RoomRegistry"/>), and its room and body as the client
/// escaped them (slices of the receive buffer, valid until the next receive).
/// </summary>
internal readonly ref struct ClientFrame(ClientFrameType type, string room, ReadOnlySpan<byte> rawRoom, ReadOnlySpan<byte> rawBody)
{
    public ClientFrameType Type { get; } = type;

    public string Room { get; } = room;

    public ReadOnlySpan<byte> RawRoom { get; } = rawRoom;

    public ReadOnlySpan<byte> RawBody { get; } = rawBody;
}
