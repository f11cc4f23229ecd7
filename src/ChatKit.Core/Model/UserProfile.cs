namespace ChatKit.Model;

/// <summary>What ChatKit keeps of a user the host app authenticated.</summary>
/// <param name="Id">The user id (from the host's authentication).</param>
/// <param name="DisplayName">The name shown to others.</param>
/// <param name="LastSeen">When the user's last connection closed, if ever.</param>
public sealed record UserProfile(string Id, string DisplayName, DateTimeOffset? LastSeen);
