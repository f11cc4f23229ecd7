namespace ChatKit.Storage.EfCore.Model;

/// <summary>Table <c>chatkit_users</c>: a user ChatKit has seen connect.</summary>
public sealed class ChatUserRow
{
    /// <summary>The user id (from the host's authentication).</summary>
    public required string Id { get; set; }

    /// <summary>The display name.</summary>
    public required string DisplayName { get; set; }

    /// <summary>When the user's last connection closed, in Unix milliseconds.</summary>
    public long? LastSeenMs { get; set; }
}
