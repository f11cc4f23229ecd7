using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace ChatKit.LoadGen.Measurement;

/// <summary>
/// The text of every benchmark message: <c>lg|step|message|due|</c> then padding to <see cref="Length"/> characters.
/// <c>due</c> is the Stopwatch timestamp at which the message was due to be sent, so a receiver times it from its place
/// in the schedule (no coordinated omission). Only characters that JSON carries unescaped, so every protocol carries
/// the body verbatim and a receiver finds it by its marker without parsing the frame. It is written straight into the
/// frame's UTF-8 (a hole in <see cref="Utf8.TryWrite(Span{byte}, IFormatProvider?, ref Utf8.TryWriteInterpolatedStringHandler, out int)"/>),
/// so a send allocates its frame and nothing else.
/// </summary>
internal readonly struct MessageBody(int step, long message, long due) : IUtf8SpanFormattable
{
    public const int Length = 64;

    public static ReadOnlySpan<byte> Marker => "lg|"u8;

    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        bytesWritten = 0;
        if (!Utf8.TryWrite(utf8Destination, CultureInfo.InvariantCulture, $"lg|{step}|{message}|{due}|", out var written))
        {
            return false;
        }

        var length = Math.Max(written, Length);
        if (length > utf8Destination.Length)
        {
            return false;
        }

        utf8Destination[written..length].Fill((byte)'x');
        bytesWritten = length;
        return true;
    }

    /// <summary>The body as text (what <see cref="TryFormat"/> writes).</summary>
    public override string ToString()
    {
        Span<byte> text = stackalloc byte[2 * Length];
        return TryFormat(text, out var written, default, CultureInfo.InvariantCulture) ? Encoding.UTF8.GetString(text[..written]) : string.Empty;
    }

    /// <summary>Reads the fields after the marker; false when the text is not a whole body.</summary>
    public static bool TryRead(ReadOnlySpan<byte> afterMarker, out int step, out long message, out long due)
    {
        message = 0;
        due = 0;
        if (!Utf8Parser.TryParse(afterMarker, out step, out var used) || used >= afterMarker.Length || afterMarker[used] != (byte)'|')
        {
            return false;
        }

        afterMarker = afterMarker[(used + 1)..];
        if (!Utf8Parser.TryParse(afterMarker, out message, out used) || used >= afterMarker.Length || afterMarker[used] != (byte)'|')
        {
            return false;
        }

        afterMarker = afterMarker[(used + 1)..];
        return Utf8Parser.TryParse(afterMarker, out due, out used) && used < afterMarker.Length && afterMarker[used] == (byte)'|';
    }
}
