using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ChatKit.Model;
using ChatKit.Protocol;
using Confluent.Kafka;

namespace ChatKit.Transport.Kafka;

/// <summary>
/// The records on ChatKit's topics (docs/kafka-records.md): the key is the room id in UTF-8, the value UTF-8 JSON in
/// camelCase; on the messages topic the value has the protocol's Message shape and headers say how to read it.
/// </summary>
internal static class LogRecords
{
    /// <summary>Header of a messages-topic record: the node whose writer numbered it.</summary>
    public const string WriterHeader = "chatkit-writer";

    /// <summary>Header of a messages-topic record: <c>1</c> when the store already had it as the record was written, else <c>0</c>.</summary>
    public const string StoredHeader = "chatkit-stored";

    /// <summary>Header of a messages-topic record that repeats an earlier one (the answer to a send retried with the same client message id).</summary>
    public const string RepeatHeader = "chatkit-repeat";

    private static readonly byte[] Yes = "1"u8.ToArray();
    private static readonly byte[] No = "0"u8.ToArray();

    private static readonly LogJsonContext Json = new(new JsonSerializerOptions(LogJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static byte[] Key(string roomId) => Encoding.UTF8.GetBytes(roomId);

    public static byte[] Incoming(NewMessage message) => JsonSerializer.SerializeToUtf8Bytes(
        new IncomingRecord { Room = message.RoomId, Cmid = message.ClientMessageId, Sender = message.SenderId, Body = message.Body, SentAt = message.SentAt },
        Json.IncomingRecord);

    /// <summary>Reads an incoming record; <see langword="null"/> when it is not one of ChatKit's.</summary>
    public static NewMessage? ReadIncoming(byte[]? value)
    {
        var record = Parse(value, Json.IncomingRecord);
        return record is null ? null : new NewMessage(record.Room, record.Cmid, record.Sender, record.Body, record.SentAt);
    }

    /// <summary>
    /// A messages-topic record. <paramref name="writer"/> is the writing node's id in UTF-8; the header values are
    /// shared arrays, which is safe because the producer only copies them.
    /// </summary>
    public static Message<byte[], byte[]> Numbered(ChatMessage message, byte[] writer, bool stored, bool repeat)
    {
        var headers = new Headers
        {
            { WriterHeader, writer },
            { StoredHeader, stored ? Yes : No },
        };
        if (repeat)
        {
            headers.Add(RepeatHeader, Yes);
        }

        var value = JsonSerializer.SerializeToUtf8Bytes(
            new MessageInfo { Room = message.RoomId, Seq = message.Sequence, Cmid = message.ClientMessageId, Sender = message.SenderId, Body = message.Body, SentAt = message.SentAt },
            Json.MessageInfo);
        return new Message<byte[], byte[]> { Key = Key(message.RoomId), Value = value, Headers = headers };
    }

    /// <summary>Reads a messages-topic record; <see langword="null"/> when it is not one of ChatKit's.</summary>
    public static NumberedRecord? ReadNumbered(Message<byte[], byte[]> record)
    {
        var info = Parse(record.Value, Json.MessageInfo);
        if (info is null || info.Seq < 1)
        {
            return null;
        }

        var message = new ChatMessage(info.Room, info.Seq, info.Cmid, info.Sender, info.Body, info.SentAt);
        return new NumberedRecord(message, IsSet(record, RepeatHeader));
    }

    /// <summary>
    /// Whether a messages-topic record still has to be stored (marked unstored and not a repeat), read from its headers
    /// alone: the store worker skips the others without parsing them.
    /// </summary>
    public static bool NeedsStoring(Message<byte[], byte[]> record) => !IsSet(record, StoredHeader) && !IsSet(record, RepeatHeader);

    /// <summary>The node whose writer numbered a messages-topic record, or an empty string.</summary>
    public static string Writer(Message<byte[], byte[]> record) =>
        record.Headers is not null && record.Headers.TryGetLastBytes(WriterHeader, out var bytes) ? Encoding.UTF8.GetString(bytes) : "";

    private static bool IsSet(Message<byte[], byte[]> record, string header) =>
        record.Headers is not null && record.Headers.TryGetLastBytes(header, out var bytes) && bytes.AsSpan().SequenceEqual(Yes);

    private static T? Parse<T>(byte[]? value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(value, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A message as the messages topic has it.</summary>
internal sealed record NumberedRecord(ChatMessage Message, bool Repeat);

/// <summary>The value of an incoming-topic record.</summary>
internal sealed class IncomingRecord
{
    public required string Room { get; init; }

    public required string Cmid { get; init; }

    public required string Sender { get; init; }

    public required string Body { get; init; }

    public DateTimeOffset SentAt { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IncomingRecord))]
[JsonSerializable(typeof(MessageInfo))]
internal sealed partial class LogJsonContext : JsonSerializerContext;
