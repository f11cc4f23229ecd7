namespace ChatKit.Engine;

/// <summary>
/// Decides whether a user may act in a room. The default, <see cref="MembershipRoomAuthorizer"/>, applies the
/// rules of <c>docs/protocol.md</c> (members read and send; owners and admins manage members; anyone joins public
/// rooms). A host replaces it to add its own rules, usually by calling the default first.
/// </summary>
/// <remarks>Called on every request that touches a room, so keep it fast. A refusal reaches the client as <c>forbidden</c>.</remarks>
public interface IRoomAuthorizer
{
    /// <summary>Returns whether the action is allowed.</summary>
    ValueTask<bool> AuthorizeAsync(RoomAccessContext context, CancellationToken cancellationToken);
}
