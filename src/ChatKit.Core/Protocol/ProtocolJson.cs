using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatKit.Protocol;

/// <summary>
/// Serializes and parses protocol frames with source-generated System.Text.Json code: camelCase names,
/// null fields left out. Thread safe.
/// </summary>
public static class ProtocolJson
{
    /// <summary>Serializes a server frame to UTF-8 JSON.</summary>
    public static byte[] Serialize(ServerFrame frame) =>
        JsonSerializer.SerializeToUtf8Bytes(frame, ProtocolJsonContext.Default.ServerFrame);

    /// <summary>Serializes a client frame to UTF-8 JSON.</summary>
    public static byte[] Serialize(ClientFrame frame) =>
        JsonSerializer.SerializeToUtf8Bytes(frame, ProtocolJsonContext.Default.ClientFrame);

    /// <summary>Parses a client frame.</summary>
    /// <exception cref="JsonException">The bytes are not a JSON object of the frame's shape.</exception>
    public static ClientFrame? ParseClientFrame(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize(utf8Json, ProtocolJsonContext.Default.ClientFrame);

    /// <summary>Parses a server frame.</summary>
    /// <exception cref="JsonException">The bytes are not a JSON object of the frame's shape.</exception>
    public static ServerFrame? ParseServerFrame(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize(utf8Json, ProtocolJsonContext.Default.ServerFrame);

    /// <summary>The source-generated metadata, for callers that serialize the protocol objects themselves.</summary>
    public static JsonSerializerContext Context => ProtocolJsonContext.Default;
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
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;
