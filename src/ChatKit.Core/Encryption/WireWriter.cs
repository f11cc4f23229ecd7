using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ChatKit.Encryption;

/// <summary>Writes the protocol's binary layouts: big-endian integers, fixed-length keys, length-prefixed strings and blobs.</summary>
internal sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public WireWriter Byte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
        return this;
    }

    public WireWriter UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public WireWriter Int64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    /// <summary>Bytes as they are, for fields of fixed length.</summary>
    public WireWriter Fixed(ReadOnlySpan<byte> value)
    {
        _buffer.Write(value);
        return this;
    }

    /// <summary>A 32-bit big-endian length, then the bytes.</summary>
    public WireWriter Blob(ReadOnlySpan<byte> value) => UInt32((uint)value.Length).Fixed(value);

    /// <summary>A 16-bit big-endian length, then the UTF-8 bytes.</summary>
    public WireWriter Text(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length > ushort.MaxValue)
        {
            throw new ArgumentException("The text is longer than 65,535 UTF-8 bytes.", nameof(value));
        }

        BinaryPrimitives.WriteUInt16BigEndian(_buffer.GetSpan(2), (ushort)bytes.Length);
        _buffer.Advance(2);
        return Fixed(bytes);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
