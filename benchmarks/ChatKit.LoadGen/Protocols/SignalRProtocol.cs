using System.Globalization;
using System.Text;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Measurement;

namespace ChatKit.LoadGen.Protocols;

/// <summary>
/// SignalR's JSON hub protocol over a raw WebSocket (negotiation skipped): the handshake record, then invocations of
/// <c>Join(room)</c> and <c>Send(room, body)</c> answered by completions; the hub pushes
/// <c>message(room, body)</c>. Records end with 0x1E and several may share one WebSocket message.
/// </summary>
internal sealed class SignalRProtocol : WireProtocol
{
    private const byte RecordSeparator = 0x1e;

    public override string Name => "SignalR";

    /// <summary>The hub drops a client it has not heard from for 30 s.</summary>
    public override byte[]? PingFrame { get; } = "{\"type\":6}\u001e"u8.ToArray();

    public override Uri Address(int port, string user) => new($"ws://127.0.0.1:{port}/hub?user={user}");

    public override async Task OpenAsync(Connection connection, TimeSpan timeout)
    {
        await connection.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray());
        await connection.ExpectAsync("handshake", timeout);
    }

    public override async Task<string> CreateRoomAsync(Connection owner, int index, TimeSpan timeout)
    {
        var room = "r" + index.ToString(CultureInfo.InvariantCulture);
        await JoinAsync(owner, room, timeout);
        return room;
    }

    public override async Task JoinAsync(Connection member, string room, TimeSpan timeout)
    {
        var id = "j" + member.NextRequestId().ToString(CultureInfo.InvariantCulture);
        await member.SendAsync(Utf8($"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"Join\",\"arguments\":[\"{room}\"]}}\u001e"));
        await member.ExpectAsync(id, timeout);
    }

    public override byte[] SendFrame(string room, int step, long message, MessageBody body) =>
        Frame(stackalloc byte[FrameScratch], Numbers, $"{{\"type\":1,\"invocationId\":\"s{message}\",\"target\":\"Send\",\"arguments\":[\"{room}\",\"{body}\"]}}\u001e");

    public override void OnMessage(Connection connection, ReadOnlySpan<byte> frame)
    {
        while (!frame.IsEmpty)
        {
            var end = frame.IndexOf(RecordSeparator);
            var record = end < 0 ? frame : frame[..end];
            frame = end < 0 ? default : frame[(end + 1)..];
            if (record.IsEmpty)
            {
                continue;
            }

            if (record.IndexOf(MessageBody.Marker) >= 0)
            {
                connection.RecordBodies(record);
            }
            else if (!connection.HandshakeDone)
            {
                connection.HandshakeDone = true;
                connection.Complete("handshake", Encoding.UTF8.GetString(record), failed: record.IndexOf("\"error\""u8) >= 0);
            }
            else if (record.IndexOf("\"type\":3"u8) >= 0)
            {
                OnCompletion(connection, record);
            }
            else if (record.IndexOf("\"type\":7"u8) >= 0)
            {
                connection.Session.OnError($"SignalR close: {Encoding.UTF8.GetString(record)}");
            }
        }
    }

    private static void OnCompletion(Connection connection, ReadOnlySpan<byte> record)
    {
        var id = StringField(record, "\"invocationId\":\""u8);
        var failed = record.IndexOf("\"error\""u8) >= 0;
        if (id is null || id.StartsWith('s'))
        {
            if (failed || id is null)
            {
                connection.Session.OnError($"SignalR completion: {Encoding.UTF8.GetString(record)}");
            }
            else
            {
                connection.Session.OnAck();
            }

            return;
        }

        connection.Complete(id, Encoding.UTF8.GetString(record), failed);
    }
}
