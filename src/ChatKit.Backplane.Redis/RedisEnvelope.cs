using System.Buffers.Binary;
using System.Text;

namespace ChatKit.Backplane.Redis;

/// <summary>
/// A <see cref="BackplaneMessage"/> on the wire, with the node that published it: a version byte, the kind, the
/// sequence, then the origin, target and room as length-prefixed UTF-8, then the frame's bytes as they are.
/// </summary>
/// <remarks>
/// Every node subscribed to a room's channel gets its own publishes back from Redis. <see cref="Read"/> compares the
/// origin as bytes and stops there for this node's own, so an echo costs no decoding.
/// </remarks>
internal static class RedisEnvelope
{
    private const byte Version = 1;
    private const int HeaderLength = 10;

    /// <summary>What <see cref="Read"/> found.</summary>
    public enum Outcome
    {
        /// <summary>Not an envelope: another version, or garbage.</summary>
        Unreadable,

        /// <summary>An envelope this node published.</summary>
        Own,

        /// <summary>An envelope from another node.</summary>
        Message,
    }

    /// <summary>A node id as the envelope carries it.</summary>
    public static byte[] Origin(string nodeId) => Encoding.UTF8.GetBytes(nodeId);

    public static byte[] Encode(ReadOnlySpan<byte> origin, BackplaneMessage message)
    {
        var room = message.RoomId ?? string.Empty;
        var size = HeaderLength + 2 + origin.Length + 2 + Encoding.UTF8.GetByteCount(message.Target) + 2 + Encoding.UTF8.GetByteCount(room) + message.Frame.Length;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        span[0] = Version;
        span[1] = (byte)message.Kind;
        BinaryPrimitives.WriteInt64BigEndian(span[2..], message.Sequence);
        var offset = HeaderLength;
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], (ushort)origin.Length);
        origin.CopyTo(span[(offset + 2)..]);
        offset += 2 + origin.Length;
        offset += WriteText(span[offset..], message.Target);
        offset += WriteText(span[offset..], room);
        message.Frame.Span.CopyTo(span[offset..]);
        return bytes;
    }

    /// <summary>
    /// Reads an envelope. <paramref name="message"/> is set only for <see cref="Outcome.Message"/>: one from a node
    /// whose origin is not <paramref name="self"/>.
    /// </summary>
    public static Outcome Read(byte[] bytes, ReadOnlySpan<byte> self, out BackplaneMessage? message)
    {
        message = null;
        if (bytes.Length < HeaderLength + 6 || bytes[0] != Version || !Enum.IsDefined((BackplaneMessageKind)bytes[1]))
        {
            return Outcome.Unreadable;
        }

        var span = bytes.AsSpan();
        var offset = HeaderLength;
        if (!TryField(span, ref offset, out var origin) || !TryField(span, ref offset, out var target) || !TryField(span, ref offset, out var room))
        {
            return Outcome.Unreadable;
        }

        if (origin.SequenceEqual(self))
        {
            return Outcome.Own;
        }

        var sequence = BinaryPrimitives.ReadInt64BigEndian(span[2..]);
        var roomId = room.IsEmpty ? null : Encoding.UTF8.GetString(room);
        message = new BackplaneMessage((BackplaneMessageKind)bytes[1], Encoding.UTF8.GetString(target), roomId, sequence, bytes.AsMemory(offset));
        return Outcome.Message;
    }

    private static int WriteText(Span<byte> destination, string text)
    {
        var length = Encoding.UTF8.GetBytes(text, destination[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)length);
        return 2 + length;
    }

    /// <summary>The length-prefixed field at <paramref name="offset"/>, which moves past it; false when the bytes end first.</summary>
    private static bool TryField(ReadOnlySpan<byte> bytes, ref int offset, out ReadOnlySpan<byte> field)
    {
        field = default;
        if (offset + 2 > bytes.Length)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(bytes[offset..]);
        if (offset + 2 + length > bytes.Length)
        {
            return false;
        }

        field = bytes.Slice(offset + 2, length);
        offset += 2 + length;
        return true;
    }
}
