namespace ChatKit.Model;

/// <summary>A member's role in a room.</summary>
public enum MemberRole
{
    /// <summary>Reads and sends.</summary>
    Member = 0,

    /// <summary>Also invites and removes members.</summary>
    Admin = 1,

    /// <summary>The creator: also makes admins and removes them; cannot leave or be removed.</summary>
    Owner = 2,
}
