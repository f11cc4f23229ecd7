using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Measurement;

namespace ChatKit.LoadGen.Protocols;

/// <summary>
/// ChatKit's protocol (docs/protocol.md): subprotocol <c>chatkit.v1</c>, <c>hello</c> first, rooms made with
/// <c>rooms.create</c> (public) by their first member and joined by the others with <c>rooms.join</c>, messages with
/// <c>send</c>; the server sends <c>message</c> events to every member, the sender included, and a reply to each send.
/// </summary>
internal sealed class ChatKitProtocol : WireProtocol
{
    public override string Name => "ChatKit";

    public override string? SubProtocol => "chatkit.v1";

    public override Uri Address(int port, string user) => new($"ws://127.0.0.1:{port}/chat?access_token={user}");

    public override async Task OpenAsync(Connection connection, TimeSpan timeout)
    {
        await connection.SendAsync("{\"type\":\"hello\",\"id\":\"h\"}"u8.ToArray());
        await connection.ExpectAsync("h", timeout);
    }

    public override async Task<string> CreateRoomAsync(Connection owner, int index, TimeSpan timeout)
    {
        var id = "c" + owner.NextRequestId().ToString(CultureInfo.InvariantCulture);
        await owner.SendAsync(Utf8($"{{\"type\":\"rooms.create\",\"id\":\"{id}\",\"name\":\"room {index}\",\"visibility\":\"public\"}}"));
        using var reply = JsonDocument.Parse(await owner.ExpectAsync(id, timeout));
        return reply.RootElement.GetProperty("info").GetProperty("id").GetString()!;
    }

    public override async Task JoinAsync(Connection member, string room, TimeSpan timeout)
    {
        var id = "j" + member.NextRequestId().ToString(CultureInfo.InvariantCulture);
        await member.SendAsync(Utf8($"{{\"type\":\"rooms.join\",\"id\":\"{id}\",\"room\":\"{room}\"}}"));
        await member.ExpectAsync(id, timeout);
    }

    public override byte[] SendFrame(string room, int step, long message, MessageBody body) =>
        Frame(stackalloc byte[FrameScratch], Numbers, $"{{\"type\":\"send\",\"id\":\"s{message}\",\"room\":\"{room}\",\"cmid\":\"m{step}-{message}\",\"body\":\"{body}\"}}");

    public override void OnMessage(Connection connection, ReadOnlySpan<byte> frame)
    {
        if (frame.IndexOf(MessageBody.Marker) >= 0)
        {
            connection.RecordBodies(frame);
            return;
        }

        var error = frame.IndexOf("\"type\":\"error\""u8) >= 0;
        if (!error && frame.IndexOf("\"type\":\"reply\""u8) < 0)
        {
            // Events of the setup (room.added, member.joined, presence): nothing to do.
            return;
        }

        var re = StringField(frame, "\"re\":\""u8);
        if (re is not null && re.StartsWith('s'))
        {
            if (error)
            {
                connection.Session.OnError($"ChatKit send refused: {Encoding.UTF8.GetString(frame)}");
            }
            else
            {
                connection.Session.OnAck();
            }

            return;
        }

        if (re is null)
        {
            connection.Session.OnError($"ChatKit error: {Encoding.UTF8.GetString(frame)}");
            return;
        }

        connection.Complete(re, Encoding.UTF8.GetString(frame), error);
    }
}
