using System.Buffers.Binary;
using System.Text;
using ChatKit.Encryption;

namespace ChatKit.Client;

/// <summary>
/// What a pairwise message carries: a type byte (1 text, 2 sender key distribution), the room it was sent in (uint16
/// length + UTF-8) and the content. The room is inside the encryption, so the server cannot show a message in another
/// room than the one it was written for.
/// </summary>
internal static class PairwisePayload
{
    public const byte Text = 1;
    public const byte SenderKey = 2;

    public static byte[] Make(byte type, string room, ReadOnlySpan<byte> content)
    {
        var roomBytes = Encoding.UTF8.GetBytes(room);
        var payload = new byte[1 + 2 + roomBytes.Length + content.Length];
        payload[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(1), (ushort)roomBytes.Length);
        roomBytes.CopyTo(payload, 3);
        content.CopyTo(payload.AsSpan(3 + roomBytes.Length));
        return payload;
    }

    /// <summary>The content, after checking the type the envelope says and the room the message came in.</summary>
    public static byte[] Open(byte[] payload, byte type, string room)
    {
        if (payload.Length < 3 || payload[0] != type)
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, "The pairwise message does not carry what its envelope says.");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(1));
        if (payload.Length < 3 + length || !string.Equals(Encoding.UTF8.GetString(payload, 3, length), room, StringComparison.Ordinal))
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, $"The message was written for another room than {room}, where it came.");
        }

        return payload[(3 + length)..];
    }
}
