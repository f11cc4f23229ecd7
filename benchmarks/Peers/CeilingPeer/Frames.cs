using System.Text.Json;

namespace ChatKit.Peers.Ceiling;

/// <summary>
/// The wire frames. Incoming ones are read with <see cref="Utf8JsonReader"/>; outgoing ones copy the room and body
/// exactly as the client escaped them, so nothing is decoded or re-encoded on the way through.
/// </summary>
internal static class Frames
{
    /// <summary>Bytes in front of every outgoing message: the id of the node that built it (see <see cref="RedisRelay"/>).</summary>
    public const int NodeIdLength = 16;

    private static readonly byte[] JoinedStart = "{\"type\":\"joined\",\"room\":\""u8.ToArray();
    private static readonly byte[] JoinedEnd = "\"}"u8.ToArray();
    private static readonly byte[] MessageStart = "{\"type\":\"message\",\"room\":\""u8.ToArray();
    private static readonly byte[] MessageMiddle = "\",\"body\":\""u8.ToArray();
    private static readonly byte[] MessageEnd = "\"}"u8.ToArray();

    /// <summary>Reads a client frame; false when it is not JSON, not an object, or lacks what its type needs.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out ClientFrame frame)
    {
        frame = default;
        try
        {
            return TryReadObject(json, out frame);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary><c>{"type":"joined","room":ROOM}</c>.</summary>
    public static byte[] Joined(ReadOnlySpan<byte> rawRoom)
    {
        var frame = new byte[JoinedStart.Length + rawRoom.Length + JoinedEnd.Length];
        var span = frame.AsSpan();
        JoinedStart.CopyTo(span);
        rawRoom.CopyTo(span[JoinedStart.Length..]);
        JoinedEnd.CopyTo(span[(JoinedStart.Length + rawRoom.Length)..]);
        return frame;
    }

    /// <summary>
    /// <c>{"type":"message","room":ROOM,"body":BODY}</c> after <see cref="NodeIdLength"/> bytes of <paramref name="nodeId"/>:
    /// one array per message, shared by every recipient and published to Redis as it is.
    /// </summary>
    public static byte[] Message(ReadOnlySpan<byte> nodeId, ReadOnlySpan<byte> rawRoom, ReadOnlySpan<byte> rawBody)
    {
        var envelope = new byte[NodeIdLength + MessageStart.Length + rawRoom.Length + MessageMiddle.Length + rawBody.Length + MessageEnd.Length];
        var span = envelope.AsSpan();
        nodeId.CopyTo(span);
        var rest = span[NodeIdLength..];
        Append(ref rest, MessageStart);
        Append(ref rest, rawRoom);
        Append(ref rest, MessageMiddle);
        Append(ref rest, rawBody);
        Append(ref rest, MessageEnd);
        return envelope;
    }

    /// <summary>The room of a <c>message</c> frame built by <see cref="Message"/> (on this node or another).</summary>
    public static string? RoomOfMessage(ReadOnlySpan<byte> message) =>
        TryRead(message, out var frame) && frame.Type == ClientFrameType.Message ? frame.Room : null;

    private static void Append(ref Span<byte> destination, ReadOnlySpan<byte> part)
    {
        part.CopyTo(destination);
        destination = destination[part.Length..];
    }

    private static bool TryReadObject(ReadOnlySpan<byte> json, out ClientFrame frame)
    {
        frame = default;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var type = ClientFrameType.Unknown;
        string? room = null;
        ReadOnlySpan<byte> rawRoom = default;
        ReadOnlySpan<byte> rawBody = default;
        var hasBody = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var property = reader.ValueTextEquals("type"u8) ? 1 : reader.ValueTextEquals("room"u8) ? 2 : reader.ValueTextEquals("body"u8) ? 3 : 0;
            reader.Read();
            if (property == 0)
            {
                reader.Skip();
                continue;
            }

            if (reader.TokenType != JsonTokenType.String)
            {
                return false;
            }

            switch (property)
            {
                case 1:
                    type = reader.ValueTextEquals("join"u8) ? ClientFrameType.Join
                        : reader.ValueTextEquals("send"u8) ? ClientFrameType.Send
                        : reader.ValueTextEquals("message"u8) ? ClientFrameType.Message
                        : ClientFrameType.Unknown;
                    break;
                case 2:
                    room = reader.GetString();
                    rawRoom = reader.ValueSpan;
                    break;
                default:
                    rawBody = reader.ValueSpan;
                    hasBody = true;
                    break;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || room is null || type == ClientFrameType.Unknown || (type != ClientFrameType.Join && !hasBody))
        {
            return false;
        }

        frame = new ClientFrame(type, room, rawRoom, rawBody);
        return true;
    }
}
