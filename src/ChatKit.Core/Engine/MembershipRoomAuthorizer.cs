using ChatKit.Model;

namespace ChatKit.Engine;

/// <summary>
/// The default <see cref="IRoomAuthorizer"/>: members read, send and signal; anyone joins a public group room;
/// owners and admins invite and remove members; only the owner invites or removes admins; nobody removes the
/// owner; everyone but the owner may leave.
/// </summary>
public sealed class MembershipRoomAuthorizer : IRoomAuthorizer
{
    /// <inheritdoc />
    public ValueTask<bool> AuthorizeAsync(RoomAccessContext context, CancellationToken cancellationToken)
    {
        var role = context.Membership?.Role;
        var allowed = context.Action switch
        {
            RoomAction.Read or RoomAction.Send or RoomAction.Signal => role is not null,
            RoomAction.Join => role is not null || (context.Room.Kind == RoomKind.Group && context.Room.Visibility == RoomVisibility.Public),
            RoomAction.Leave => role is MemberRole.Member or MemberRole.Admin,
            RoomAction.Invite => role == MemberRole.Owner || (role == MemberRole.Admin && context.TargetRole != MemberRole.Admin),
            RoomAction.Remove => context.TargetMembership?.Role switch
            {
                MemberRole.Owner => false,
                MemberRole.Admin => role == MemberRole.Owner,
                _ => role is MemberRole.Owner or MemberRole.Admin,
            },
            _ => false,
        };
        return ValueTask.FromResult(allowed);
    }
}
