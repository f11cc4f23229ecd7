namespace ChatKit.Model;

/// <summary>What kind of conversation a room is.</summary>
public enum RoomKind
{
    /// <summary>A named room with any number of members and roles.</summary>
    Group = 0,

    /// <summary>A direct conversation between exactly two users; its members never change.</summary>
    Direct = 1,
}
