namespace ChatKit.Model;

/// <summary>When a user's last connection closed.</summary>
/// <param name="UserId">The user id.</param>
/// <param name="LastSeen">The time their last connection closed.</param>
public sealed record UserLastSeen(string UserId, DateTimeOffset LastSeen);
