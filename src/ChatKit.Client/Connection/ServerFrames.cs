using ChatKit.Model;
using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>Turns server frames into the client's typed results and events, checking the fields the protocol promises.</summary>
internal static class ServerFrames
{
    /// <summary>The event a frame carries; <see langword="null"/> for an event type this client does not know.</summary>
    /// <exception cref="ChatClientException"><see cref="ChatErrorCodes.MalformedFrame"/>: a documented field is missing.</exception>
    public static ChatEvent? ToEvent(ServerFrame frame) => frame.Type switch
    {
        FrameTypes.Message => new MessageEvent(ToMessage(frame)),
        FrameTypes.RoomAdded => new RoomAddedEvent(Require(frame, frame.Info, "info")),
        FrameTypes.RoomRemoved => new RoomRemovedEvent(Require(frame, frame.Room, "room"), Require(frame, frame.Reason, "reason"), frame.By),
        FrameTypes.MemberJoined => new MemberJoinedEvent(Require(frame, frame.Room, "room"), Require(frame, frame.Member, "member")),
        FrameTypes.MemberLeft => new MemberLeftEvent(
            Require(frame, frame.Room, "room"), Require(frame, frame.User, "user"), Require(frame, frame.Reason, "reason"), frame.By),
        FrameTypes.KeysLow => new KeysLowEvent(Require(frame, frame.Device, "device"), RequireValue(frame, frame.OneTimePreKeys, "oneTimePreKeys")),
        FrameTypes.Typing => new TypingEvent(Require(frame, frame.Room, "room"), Require(frame, frame.User, "user"), RequireValue(frame, frame.Active, "active")),
        FrameTypes.Receipt => new ReceiptEvent(
            Require(frame, frame.Room, "room"), Require(frame, frame.User, "user"), ToReceiptKind(frame), RequireValue(frame, frame.Seq, "seq")),
        FrameTypes.Presence => new PresenceEvent(new PresenceInfo
        {
            User = Require(frame, frame.User, "user"),
            Online = RequireValue(frame, frame.Online, "online"),
            LastSeen = frame.LastSeen,
        }),
        _ => null,
    };

    public static WelcomeInfo ToWelcome(ServerFrame frame) => new()
    {
        Protocol = RequireValue(frame, frame.Protocol, "protocol"),
        UserId = Require(frame, frame.User, "user"),
        DisplayName = Require(frame, frame.Name, "name"),
        ConnectionId = Require(frame, frame.Connection, "connection"),
        Rooms = Require(frame, frame.Rooms, "rooms"),
        Limits = Require(frame, frame.Limits, "limits"),
    };

    /// <summary>The exception an <c>error</c> frame stands for.</summary>
    public static ChatClientException ToException(ServerFrame error)
    {
        var code = string.IsNullOrEmpty(error.Code) ? ChatErrorCodes.InternalError : error.Code;
        return new ChatClientException(code, string.IsNullOrEmpty(error.Message) ? $"The server answered with error '{code}'." : error.Message)
        {
            RetryAfter = error.RetryAfterMs is { } milliseconds ? TimeSpan.FromMilliseconds(milliseconds) : null,
        };
    }

    public static T Require<T>(ServerFrame frame, T? value, string field)
        where T : class =>
        value ?? throw Missing(frame, field);

    public static T RequireValue<T>(ServerFrame frame, T? value, string field)
        where T : struct =>
        value ?? throw Missing(frame, field);

    private static MessageInfo ToMessage(ServerFrame frame) => new()
    {
        Room = Require(frame, frame.Room, "room"),
        Seq = RequireValue(frame, frame.Seq, "seq"),
        Cmid = Require(frame, frame.Cmid, "cmid"),
        Sender = Require(frame, frame.Sender, "sender"),
        Body = Require(frame, frame.Body, "body"),
        SentAt = RequireValue(frame, frame.SentAt, "sentAt"),
    };

    private static ReceiptKind ToReceiptKind(ServerFrame frame) => Require(frame, frame.Kind, "kind") switch
    {
        "read" => ReceiptKind.Read,
        "delivered" => ReceiptKind.Delivered,
        var other => throw new ChatClientException(ChatErrorCodes.MalformedFrame, $"The server's '{frame.Type}' frame has an unknown receipt kind '{other}'."),
    };

    private static ChatClientException Missing(ServerFrame frame, string field) =>
        new(ChatErrorCodes.MalformedFrame, $"The server's '{frame.Type}' frame has no '{field}' field.");
}
