namespace ChatKit.Model;

/// <summary>Who may join a group room.</summary>
public enum RoomVisibility
{
    /// <summary>Only people an owner or admin invites.</summary>
    Private = 0,

    /// <summary>Anyone may join and find the room in the public list.</summary>
    Public = 1,
}
