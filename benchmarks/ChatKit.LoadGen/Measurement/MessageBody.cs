using System.Buffers.Text;
using System.Globalization;

namespace ChatKit.LoadGen.Measurement;

/// <summary>
/// The text of every benchmark message: <c>lg|step|message|due|</c> then padding to <see cref="Length"/> characters.
/// <c>due</c> is the Stopwatch timestamp at which the message was due to be sent, so a receiver times it from its place
/// in the schedule (no coordinated omission). Only characters that JSON carries unescaped, so every protocol carries
/// the body verbatim and a receiver finds it by its marker without parsing the frame.
/// </summary>
internal static class MessageBody
{
    public const int Length = 64;

    public static ReadOnlySpan<byte> Marker => "lg|"u8;

    public static string Create(int step, long message, long due)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"lg|{step}|{message}|{due}|");
        return text.Length >= Length ? text : text.PadRight(Length, 'x');
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
