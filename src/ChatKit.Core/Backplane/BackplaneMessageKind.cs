namespace ChatKit.Backplane;

/// <summary>What a backplane message asks every node to do.</summary>
public enum BackplaneMessageKind
{
    /// <summary>Send the frame to every local connection subscribed to the room <see cref="BackplaneMessage.Target"/>.</summary>
    RoomFrame = 0,

    /// <summary>Send the frame to every local connection of the user <see cref="BackplaneMessage.Target"/>.</summary>
    UserFrame = 1,

    /// <summary>Subscribe the user's local connections to <see cref="BackplaneMessage.RoomId"/>, then send them the frame.</summary>
    RoomJoined = 2,

    /// <summary>Unsubscribe the user's local connections from <see cref="BackplaneMessage.RoomId"/>, then send them the frame.</summary>
    RoomLeft = 3,
}
