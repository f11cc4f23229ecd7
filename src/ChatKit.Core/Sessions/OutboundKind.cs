namespace ChatKit.Sessions;

/// <summary>What the writer loop of a session does with a queued item.</summary>
internal enum OutboundKind
{
    /// <summary>A reply or error: send it as it is.</summary>
    Frame,

    /// <summary>An event outside a room's message order (typing, presence, receipts, members): sent once the welcome is out.</summary>
    Event,

    /// <summary>A room's message: send it in sequence order, filling gaps from the store.</summary>
    RoomMessage,

    /// <summary>The hello was accepted: send the welcome, set the room cursors, replay what was missed.</summary>
    Start,

    /// <summary>The user joined a room: send the frame, then everything stored since the join, then live messages.</summary>
    Subscribe,

    /// <summary>The backplane may have lost traffic: send each room's stored messages past its cursor.</summary>
    CatchUp,

    /// <summary>The user left a room: drop its cursor, then send the frame.</summary>
    Unsubscribe,

    /// <summary>Close the connection.</summary>
    Close,
}
