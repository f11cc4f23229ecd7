using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatKit.Protocol;

/// <summary>
/// Serializes and parses protocol frames with source-generated System.Text.Json code: camelCase names,
/// null fields left out. Thread safe.
/// </summary>
public static class ProtocolJson
{
    // Frames go to WebSocket clients, never into HTML: escaping '<', '&', '+' and non-ASCII as \uXXXX would only
    // inflate them (up to six times for a body of '<').
    private static readonly ProtocolJsonContext Wire = new(new JsonSerializerOptions(ProtocolJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>Serializes a server frame to UTF-8 JSON.</summary>
    public static byte[] Serialize(ServerFrame frame) =>
        JsonSerializer.SerializeToUtf8Bytes(frame, Wire.ServerFrame);

    /// <summary>Serializes a client frame to UTF-8 JSON.</summary>
    public static byte[] Serialize(ClientFrame frame) =>
        JsonSerializer.SerializeToUtf8Bytes(frame, Wire.ClientFrame);

    /// <summary>Parses a client frame.</summary>
    /// <exception cref="JsonException">The bytes are not a JSON object of the frame's shape.</exception>
    public static ClientFrame? ParseClientFrame(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize(utf8Json, Wire.ClientFrame);

    /// <summary>Parses a server frame.</summary>
    /// <exception cref="JsonException">The bytes are not a JSON object of the frame's shape.</exception>
    public static ServerFrame? ParseServerFrame(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize(utf8Json, Wire.ServerFrame);

    /// <summary>The source-generated metadata, for callers that serialize the protocol objects themselves.</summary>
    public static JsonSerializerContext Context => Wire;

    /// <summary>
    /// The <c>message</c> event of a stored message: the bytes <see cref="Serialize(ServerFrame)"/> gives for a frame
    /// of these fields, written without building one (this runs for every message sent).
    /// </summary>
    internal static byte[] SerializeMessageEvent(string room, long seq, string? cmid, string? sender, string? body, DateTimeOffset sentAt)
    {
        var writer = StartFrame(FrameTypes.Message, re: null);
        writer.WriteString("room"u8, room);
        writer.WriteNumber("seq"u8, seq);
        WriteIfPresent(writer, "cmid"u8, cmid);
        WriteIfPresent(writer, "sender"u8, sender);
        WriteIfPresent(writer, "body"u8, body);
        writer.WriteString("sentAt"u8, sentAt);
        return EndFrame(writer);
    }

    /// <summary>
    /// The reply to a <c>send</c>: the bytes <see cref="Serialize(ServerFrame)"/> gives for a reply of these fields,
    /// written without building the frame (this runs for every message sent).
    /// </summary>
    internal static byte[] SerializeSendReply(string re, string room, long seq, string? cmid, DateTimeOffset sentAt, bool duplicate)
    {
        var writer = StartFrame(FrameTypes.Reply, re);
        writer.WriteString("room"u8, room);
        writer.WriteNumber("seq"u8, seq);
        WriteIfPresent(writer, "cmid"u8, cmid);
        writer.WriteString("sentAt"u8, sentAt);
        writer.WriteBoolean("duplicate"u8, duplicate);
        return EndFrame(writer);
    }

    private static Utf8JsonWriter StartFrame(string type, string? re)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("type"u8, type);
        WriteIfPresent(writer, "re"u8, re);
        return writer;
    }

    private static byte[] EndFrame(Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        writer.Flush();
        var frame = t_buffer!.WrittenSpan.ToArray();
        if (t_buffer.Capacity > KeptBufferBytes)
        {
            // A host that allows large bodies should not have every thread keep a buffer the size of the largest.
            t_buffer = null;
            t_writer = null;
        }

        return frame;
    }

    private static void WriteIfPresent(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private const int KeptBufferBytes = 64 * 1024;

    // One writer and buffer per thread for the two frames above; nothing in them awaits, so a thread never needs two.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ClientFrame))]
[JsonSerializable(typeof(ServerFrame))]
[JsonSerializable(typeof(RoomInfo[]))]
[JsonSerializable(typeof(MemberInfo[]))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(HistoryPage))]
[JsonSerializable(typeof(CreateRoomRequest))]
[JsonSerializable(typeof(DeviceKeysUpload))]
[JsonSerializable(typeof(DeviceKeyStatus))]
[JsonSerializable(typeof(UserDevicesInfo))]
[JsonSerializable(typeof(PreKeyBundleInfo))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;
