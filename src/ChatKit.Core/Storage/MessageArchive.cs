using System.Runtime.InteropServices;
using ChatKit.Model;

namespace ChatKit.Storage;

/// <summary>
/// The in-memory store's messages as bytes in large shared chunks, instead of as three objects each (the message, its
/// client id and its body).
/// </summary>
/// <remarks>
/// Every object a store keeps survives the garbage collections that follow its allocation, and each of them copies
/// it: a node storing thousands of messages a second paused for 15 to 21 ms every few seconds to copy the last
/// seconds' messages. A chunk is one array of at least <see cref="ChunkSize"/> bytes, so it is allocated on the large
/// object heap and never copied, and it holds no references for a collection to trace. A record is the send time, the
/// three lengths, then the client id, sender id and body as UTF-16 (lossless for any .NET string). Thread safe: one
/// lock, held only to copy bytes in or out.
/// </remarks>
internal sealed class MessageArchive
{
    /// <summary>The size of a chunk: over the runtime's 85,000-byte threshold of the large object heap.</summary>
    internal const int ChunkSize = 1 << 20;

    private const int HeaderSize = 24;

    private readonly Lock _sync = new();
    private readonly List<byte[]> _chunks = [];
    private byte[] _current = [];
    private int _used;

    /// <summary>Copies a message in; returns where it is.</summary>
    public long Append(string clientMessageId, string senderId, string body, DateTimeOffset sentAt)
    {
        // Whole 8-byte words, so every header is aligned.
        var size = (HeaderSize + (2 * (clientMessageId.Length + senderId.Length + body.Length)) + 7) & ~7;
        lock (_sync)
        {
            if (size > _current.Length - _used)
            {
                // A record never spans chunks; one larger than a chunk gets a chunk of its own size.
                _current = new byte[Math.Max(ChunkSize, size)];
                _chunks.Add(_current);
                _used = 0;
            }

            var record = _current.AsSpan(_used, size);
            var header = MemoryMarshal.Cast<byte, int>(record[..HeaderSize]);
            MemoryMarshal.Write(record, sentAt.UtcTicks);
            header[2] = (int)sentAt.Offset.TotalMinutes;
            header[3] = clientMessageId.Length;
            header[4] = senderId.Length;
            header[5] = body.Length;
            var chars = MemoryMarshal.Cast<byte, char>(record[HeaderSize..]);
            clientMessageId.CopyTo(chars);
            senderId.CopyTo(chars[clientMessageId.Length..]);
            body.CopyTo(chars[(clientMessageId.Length + senderId.Length)..]);
            var position = ((long)(_chunks.Count - 1) << 32) | (uint)_used;
            _used += size;
            return position;
        }
    }

    /// <summary>The message at <paramref name="position"/>, as room <paramref name="roomId"/>'s message <paramref name="sequence"/>.</summary>
    public ChatMessage Read(long position, string roomId, long sequence)
    {
        lock (_sync)
        {
            return Decode(position, roomId, sequence);
        }
    }

    /// <summary>The messages at <paramref name="positions"/>, numbered from <paramref name="firstSequence"/>.</summary>
    public List<ChatMessage> Read(ReadOnlySpan<long> positions, string roomId, long firstSequence)
    {
        var messages = new List<ChatMessage>(positions.Length);
        lock (_sync)
        {
            foreach (var position in positions)
            {
                messages.Add(Decode(position, roomId, firstSequence + messages.Count));
            }
        }

        return messages;
    }

    /// <summary>Whether the message at <paramref name="position"/> has client id <paramref name="clientMessageId"/>.</summary>
    public bool HasClientId(long position, string clientMessageId)
    {
        lock (_sync)
        {
            var record = Record(position);
            return Chars(record)[..Header(record)[3]].SequenceEqual(clientMessageId);
        }
    }

    private ChatMessage Decode(long position, string roomId, long sequence)
    {
        var record = Record(position);
        var header = Header(record);
        var chars = Chars(record);
        var sentAt = new DateTimeOffset(MemoryMarshal.Read<long>(record), TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(header[2]));
        var clientMessageId = new string(chars[..header[3]]);
        var senderId = new string(chars.Slice(header[3], header[4]));
        var body = new string(chars.Slice(header[3] + header[4], header[5]));
        return new ChatMessage(roomId, sequence, clientMessageId, senderId, body, sentAt);
    }

    private static ReadOnlySpan<int> Header(ReadOnlySpan<byte> record) => MemoryMarshal.Cast<byte, int>(record[..HeaderSize]);

    private static ReadOnlySpan<char> Chars(ReadOnlySpan<byte> record) => MemoryMarshal.Cast<byte, char>(record[HeaderSize..]);

    /// <summary>The record at <paramref name="position"/>, without the padding after it.</summary>
    private ReadOnlySpan<byte> Record(long position)
    {
        var chunk = _chunks[(int)(position >> 32)];
        var start = (int)(uint)position;
        var header = Header(chunk.AsSpan(start));
        return chunk.AsSpan(start, HeaderSize + (2 * (header[3] + header[4] + header[5])));
    }
}
