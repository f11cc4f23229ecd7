namespace ChatKit.Storage.EfCore.Model;

/// <summary>Table <c>chatkit_rooms</c>: a room and its sequence counter.</summary>
public sealed class ChatRoomRow
{
    /// <summary>The room id.</summary>
    public required string Id { get; set; }

    /// <summary>0 = group, 1 = direct.</summary>
    public int Kind { get; set; }

    /// <summary>The room's name.</summary>
    public required string Name { get; set; }

    /// <summary>0 = private, 1 = public.</summary>
    public int Visibility { get; set; }

    /// <summary>The creator's user id.</summary>
    public required string CreatedBy { get; set; }

    /// <summary>Creation time in Unix milliseconds.</summary>
    public long CreatedAtMs { get; set; }

    /// <summary>The sequence of the room's newest message: the counter every append increments in its transaction.</summary>
    public long LastSequence { get; set; }

    /// <summary>Whether the room is end-to-end encrypted; set at creation, never changed.</summary>
    public bool Encrypted { get; set; }
}
