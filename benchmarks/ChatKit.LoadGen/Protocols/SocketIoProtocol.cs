using System.Buffers.Text;
using System.Globalization;
using System.Text;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Measurement;

namespace ChatKit.LoadGen.Protocols;

/// <summary>
/// Socket.IO v4 over Engine.IO 4, WebSocket transport only (no polling): <c>0{open}</c> from the server, the client
/// connects to the main namespace with <c>40{"user":...}</c>, emits <c>join</c> and <c>send</c> with ack ids
/// (<c>42id[...]</c>, answered <c>43id[...]</c>); the server pushes <c>42["message",room,body]</c> and pings with
/// <c>2</c>, which the client answers with <c>3</c>.
/// </summary>
internal sealed class SocketIoProtocol : WireProtocol
{
    /// <summary>Setup requests take ack ids from here up; the schedule's sends use their message number (far below).</summary>
    private const long SetupIds = 1_000_000_000_000;
    private static readonly byte[] Pong = "3"u8.ToArray();

    public override string Name => "Socket.IO";

    public override Uri Address(int port, string user) => new($"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");

    public override async Task OpenAsync(Connection connection, TimeSpan timeout)
    {
        await connection.ExpectAsync("open", timeout);
        await connection.SendAsync(Utf8($"40{{\"user\":\"{connection.User}\"}}"));
        await connection.ExpectAsync("connect", timeout);
    }

    public override async Task<string> CreateRoomAsync(Connection owner, int index, TimeSpan timeout)
    {
        var room = "r" + index.ToString(CultureInfo.InvariantCulture);
        await JoinAsync(owner, room, timeout);
        return room;
    }

    public override async Task JoinAsync(Connection member, string room, TimeSpan timeout)
    {
        var id = (SetupIds + member.NextRequestId()).ToString(CultureInfo.InvariantCulture);
        await member.SendAsync(Utf8($"42{id}[\"join\",\"{room}\"]"));
        await member.ExpectAsync("ack" + id, timeout);
    }

    public override byte[] SendFrame(string room, int step, long message, MessageBody body) =>
        Frame(stackalloc byte[FrameScratch], Numbers, $"42{message}[\"send\",\"{room}\",\"{body}\"]");

    public override void OnMessage(Connection connection, ReadOnlySpan<byte> frame)
    {
        if (frame.IsEmpty)
        {
            return;
        }

        switch (frame[0])
        {
            case (byte)'2':
                connection.Post(Pong);
                return;
            case (byte)'0':
                connection.Complete("open", Encoding.UTF8.GetString(frame), failed: false);
                return;
            case (byte)'4' when frame.Length > 1:
                OnPacket(connection, frame);
                return;
            default:
                return;
        }
    }

    private static void OnPacket(Connection connection, ReadOnlySpan<byte> frame)
    {
        switch (frame[1])
        {
            case (byte)'2':
                connection.RecordBodies(frame);
                return;
            case (byte)'3':
                if (!Utf8Parser.TryParse(frame[2..], out long id, out _))
                {
                    connection.Session.OnError($"Socket.IO ack without an id: {Encoding.UTF8.GetString(frame)}");
                    return;
                }

                if (id < SetupIds)
                {
                    connection.Session.OnAck();
                    return;
                }

                connection.Complete("ack" + id.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(frame), failed: false);
                return;
            case (byte)'0':
                connection.Complete("connect", Encoding.UTF8.GetString(frame), failed: false);
                return;
            case (byte)'4':
                connection.Complete("connect", Encoding.UTF8.GetString(frame), failed: true);
                return;
            case (byte)'1':
                connection.Session.OnClosed($"Socket.IO connection {connection.User}: disconnected by the server.");
                return;
            default:
                return;
        }
    }
}
