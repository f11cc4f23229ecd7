namespace ChatKit.Model;

/// <summary>A user's membership of a room.</summary>
/// <param name="RoomId">The room.</param>
/// <param name="UserId">The user.</param>
/// <param name="Role">The user's role in the room.</param>
/// <param name="JoinedAt">When the user joined.</param>
public sealed record RoomMember(string RoomId, string UserId, MemberRole Role, DateTimeOffset JoinedAt);
