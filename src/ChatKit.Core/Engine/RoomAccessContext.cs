using ChatKit.Model;

namespace ChatKit.Engine;

/// <summary>Everything an <see cref="IRoomAuthorizer"/> needs to decide one request.</summary>
/// <param name="User">Who asks.</param>
/// <param name="Room">The room.</param>
/// <param name="Membership">The asking user's membership, or <see langword="null"/> when not a member.</param>
/// <param name="Action">What the user wants to do.</param>
/// <param name="TargetUserId">For invite and remove: the user acted on.</param>
/// <param name="TargetMembership">For remove: the target's membership.</param>
/// <param name="TargetRole">For invite: the role the target would get.</param>
public sealed record RoomAccessContext(
    ChatUser User,
    Room Room,
    RoomMember? Membership,
    RoomAction Action,
    string? TargetUserId = null,
    RoomMember? TargetMembership = null,
    MemberRole? TargetRole = null);
