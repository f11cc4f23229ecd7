using System.Buffers.Binary;
using System.Text;

namespace ChatKit.Backplane.Redis;

/// <summary>
/// A <see cref="BackplaneMessage"/> on the wire, with the node that published it: a version byte, the kind, the
/// sequence, then the origin, target and room as length-prefixed UTF-8, then the frame's bytes as they are.
/// </summary>
internal static class RedisEnvelope
{
    private const byte Version = 1;

    public static byte[] Encode(string origin, BackplaneMessage message)
    {
        var texts = new[] { origin, message.Target, message.RoomId ?? string.Empty };
        var size = 1 + 1 + 8 + texts.Sum(t => 2 + Encoding.UTF8.GetByteCount(t)) + message.Frame.Length;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        span[0] = Version;
        span[1] = (byte)message.Kind;
        BinaryPrimitives.WriteInt64BigEndian(span[2..], message.Sequence);
        var offset = 10;
        foreach (var text in texts)
        {
            var length = Encoding.UTF8.GetBytes(text, span[(offset + 2)..]);
            BinaryPrimitives.WriteUInt16BigEndian(span[offset..], (ushort)length);
            offset += 2 + length;
        }

        message.Frame.Span.CopyTo(span[offset..]);
        return bytes;
    }

    /// <summary>Reads an envelope; <see langword="false"/> for bytes that are not one (another version, or garbage).</summary>
    public static bool TryDecode(byte[] bytes, out string origin, out BackplaneMessage message)
    {
        origin = string.Empty;
        message = null!;
        if (bytes.Length < 16 || bytes[0] != Version || !Enum.IsDefined((BackplaneMessageKind)bytes[1]))
        {
            return false;
        }

        var span = bytes.AsSpan();
        var sequence = BinaryPrimitives.ReadInt64BigEndian(span[2..]);
        var offset = 10;
        var texts = new string[3];
        for (var i = 0; i < texts.Length; i++)
        {
            if (offset + 2 > bytes.Length)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(span[offset..]);
            if (offset + 2 + length > bytes.Length)
            {
                return false;
            }

            texts[i] = Encoding.UTF8.GetString(span.Slice(offset + 2, length));
            offset += 2 + length;
        }

        origin = texts[0];
        message = new BackplaneMessage((BackplaneMessageKind)bytes[1], texts[1], texts[2].Length == 0 ? null : texts[2], sequence, bytes.AsMemory(offset));
        return true;
    }
}
