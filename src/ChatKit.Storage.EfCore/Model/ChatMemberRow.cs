namespace ChatKit.Storage.EfCore.Model;

/// <summary>Table <c>chatkit_members</c>: a membership with the member's read state.</summary>
public sealed class ChatMemberRow
{
    /// <summary>The room id.</summary>
    public required string RoomId { get; set; }

    /// <summary>The user id.</summary>
    public required string UserId { get; set; }

    /// <summary>0 = member, 1 = admin, 2 = owner.</summary>
    public int Role { get; set; }

    /// <summary>When the user joined, in Unix milliseconds.</summary>
    public long JoinedAtMs { get; set; }

    /// <summary>The highest sequence delivered to the user.</summary>
    public long DeliveredSequence { get; set; }

    /// <summary>The highest sequence the user has read.</summary>
    public long ReadSequence { get; set; }
}
