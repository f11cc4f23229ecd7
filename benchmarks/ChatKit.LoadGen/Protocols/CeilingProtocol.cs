using System.Globalization;
using System.Text;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Measurement;

namespace ChatKit.LoadGen.Protocols;

/// <summary>
/// The raw Kestrel WebSocket broadcaster (the ceiling): <c>{"type":"join","room":r}</c> answered with
/// <c>{"type":"joined","room":r}</c>; <c>{"type":"send",...}</c> goes to every member as <c>{"type":"message",...}</c>.
/// No acknowledgement of sends.
/// </summary>
internal sealed class CeilingProtocol : WireProtocol
{
    public override string Name => "Ceiling";

    public override Uri Address(int port, string user) => new($"ws://127.0.0.1:{port}/ws?user={user}");

    public override Task OpenAsync(Connection connection, TimeSpan timeout) => Task.CompletedTask;

    public override async Task<string> CreateRoomAsync(Connection owner, int index, TimeSpan timeout)
    {
        var room = "r" + index.ToString(CultureInfo.InvariantCulture);
        await JoinAsync(owner, room, timeout);
        return room;
    }

    public override async Task JoinAsync(Connection member, string room, TimeSpan timeout)
    {
        await member.SendAsync(Utf8($"{{\"type\":\"join\",\"room\":\"{room}\"}}"));
        await member.ExpectAsync("join:" + room, timeout);
    }

    public override byte[] SendFrame(string room, int step, long message, MessageBody body) =>
        Frame(stackalloc byte[FrameScratch], Numbers, $"{{\"type\":\"send\",\"room\":\"{room}\",\"body\":\"{body}\"}}");

    public override void OnMessage(Connection connection, ReadOnlySpan<byte> frame)
    {
        if (frame.IndexOf(MessageBody.Marker) >= 0)
        {
            connection.RecordBodies(frame);
        }
        else if (frame.IndexOf("\"joined\""u8) >= 0)
        {
            connection.Complete("join:" + StringField(frame, "\"room\":\""u8), Encoding.UTF8.GetString(frame), failed: false);
        }
        else if (frame.IndexOf("\"error\""u8) >= 0)
        {
            connection.Session.OnError($"Ceiling error: {Encoding.UTF8.GetString(frame)}");
        }
    }
}
