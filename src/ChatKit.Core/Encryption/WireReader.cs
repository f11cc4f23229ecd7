using System.Buffers.Binary;
using System.Text;

namespace ChatKit.Encryption;

/// <summary>Reads what <see cref="WireWriter"/> writes; any shortfall or excess is <see cref="EncryptionErrorCodes.Malformed"/>.</summary>
internal sealed class WireReader(ReadOnlyMemory<byte> bytes, string what)
{
    private int _position;

    public int Position => _position;

    public byte Byte() => Take(1)[0];

    public uint UInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public long Int64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public byte[] Fixed(int length) => Take(length).ToArray();

    public byte[] Blob()
    {
        var length = UInt32();
        return length > (uint)(bytes.Length - _position) ? throw Malformed() : Fixed((int)length);
    }

    public string Text()
    {
        var length = BinaryPrimitives.ReadUInt16BigEndian(Take(2));
        return Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>Everything not read yet.</summary>
    public ReadOnlyMemory<byte> Rest()
    {
        var rest = bytes[_position..];
        _position = bytes.Length;
        return rest;
    }

    public void End()
    {
        if (_position != bytes.Length)
        {
            throw Malformed();
        }
    }

    public EncryptionException Malformed() =>
        new(EncryptionErrorCodes.Malformed, $"The bytes are not a valid {what}.");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > bytes.Length - _position)
        {
            throw Malformed();
        }

        var span = bytes.Span.Slice(_position, count);
        _position += count;
        return span;
    }
}
