using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Measurement;

namespace ChatKit.LoadGen.Protocols;

/// <summary>
/// The frames of one system's wire protocol. Everything else (sockets, the receive loop, buffers, the schedule, the
/// body search) is shared, so the client side costs the same for every system.
/// </summary>
internal abstract class WireProtocol
{
    public abstract string Name { get; }

    /// <summary>The WebSocket subprotocol to offer, if the system needs one.</summary>
    public virtual string? SubProtocol => null;

    /// <summary>A frame the client must send every <see cref="PingInterval"/> to stay connected (SignalR), if any.</summary>
    public virtual byte[]? PingFrame => null;

    public virtual TimeSpan PingInterval => TimeSpan.FromSeconds(15);

    public abstract Uri Address(int port, string user);

    /// <summary>The protocol's handshake, after the socket is open and receiving.</summary>
    public abstract Task OpenAsync(Connection connection, TimeSpan timeout);

    /// <summary>Makes room number <paramref name="index"/> with <paramref name="owner"/> in it; returns the id to send to.</summary>
    public abstract Task<string> CreateRoomAsync(Connection owner, int index, TimeSpan timeout);

    /// <summary>Puts <paramref name="member"/> in <paramref name="room"/> and waits until the server confirmed it.</summary>
    public abstract Task JoinAsync(Connection member, string room, TimeSpan timeout);

    /// <summary>The frame that sends <paramref name="body"/> to <paramref name="room"/> as message <paramref name="message"/> of step <paramref name="step"/>.</summary>
    public abstract byte[] SendFrame(string room, int step, long message, MessageBody body);

    /// <summary>Handles one WebSocket message from the server (called by the receive loop).</summary>
    public abstract void OnMessage(Connection connection, ReadOnlySpan<byte> frame);

    /// <summary>The string value of the first <c>"name":"value"</c> in <paramref name="frame"/> (no escapes in the values read here).</summary>
    protected static string? StringField(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> quotedNameColonQuote)
    {
        var at = frame.IndexOf(quotedNameColonQuote);
        if (at < 0)
        {
            return null;
        }

        var value = frame[(at + quotedNameColonQuote.Length)..];
        var end = value.IndexOf((byte)'"');
        return end < 0 ? null : Encoding.UTF8.GetString(value[..end]);
    }

    protected static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>
    /// A frame written as UTF-8 into <paramref name="scratch"/> (numbers in the invariant culture), returned as an array of
    /// its own length: the only allocation of a send.
    /// </summary>
    protected static byte[] Frame(Span<byte> scratch, IFormatProvider provider, [InterpolatedStringHandlerArgument(nameof(scratch), nameof(provider))] ref Utf8.TryWriteInterpolatedStringHandler frame) =>
        System.Text.Unicode.Utf8.TryWrite(scratch, provider, ref frame, out var written)
            ? scratch[..written].ToArray()
            : throw new InvalidOperationException($"A send frame is longer than {scratch.Length} bytes.");

    /// <summary>The scratch length for <see cref="Frame"/>: a send frame is a room id, a request id and a 64-character body in a short template.</summary>
    protected const int FrameScratch = 1024;

    /// <summary>The culture of the numbers in frames.</summary>
    protected static IFormatProvider Numbers => CultureInfo.InvariantCulture;
}
