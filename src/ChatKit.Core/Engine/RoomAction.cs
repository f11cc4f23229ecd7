namespace ChatKit.Engine;

/// <summary>What a user wants to do in a room, as the <see cref="IRoomAuthorizer"/> sees it.</summary>
public enum RoomAction
{
    /// <summary>Read history, the member list, or receive the room's events.</summary>
    Read = 0,

    /// <summary>Send a message.</summary>
    Send = 1,

    /// <summary>Send typing indicators and receipts.</summary>
    Signal = 2,

    /// <summary>Join a room.</summary>
    Join = 3,

    /// <summary>Add another user (<see cref="RoomAccessContext.TargetUserId"/>).</summary>
    Invite = 4,

    /// <summary>Remove another user (<see cref="RoomAccessContext.TargetUserId"/>).</summary>
    Remove = 5,

    /// <summary>Leave a room.</summary>
    Leave = 6,
}
