namespace ChatKit.Protocol;

/// <summary>The frame types of protocol version 1.</summary>
public static class FrameTypes
{
#pragma warning disable CS1591 // Each constant is its wire name; docs/protocol.md describes them.
    public const string Hello = "hello";
    public const string Send = "send";
    public const string History = "history";
    public const string RoomsList = "rooms.list";
    public const string RoomsPublic = "rooms.public";
    public const string RoomsCreate = "rooms.create";
    public const string RoomsDirect = "rooms.direct";
    public const string RoomsJoin = "rooms.join";
    public const string RoomsLeave = "rooms.leave";
    public const string MembersList = "members.list";
    public const string MembersInvite = "members.invite";
    public const string MembersRemove = "members.remove";
    public const string Typing = "typing";
    public const string Receipt = "receipt";
    public const string Presence = "presence";
    public const string UsersSearch = "users.search";
    public const string Ping = "ping";

    public const string Reply = "reply";
    public const string Error = "error";
    public const string Message = "message";
    public const string RoomAdded = "room.added";
    public const string RoomRemoved = "room.removed";
    public const string MemberJoined = "member.joined";
    public const string MemberLeft = "member.left";
    public const string KeysLow = "keys.low";
#pragma warning restore CS1591
}
