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
