using Microsoft.AspNetCore.SignalR;

namespace ChatKit.Peers.SignalR;

/// <summary>
/// Rooms are SignalR groups. A connection without a user name (<see cref="QueryUserIdProvider"/>) is refused.
/// </summary>
internal sealed class RoomHub : Hub
{
    public override Task OnConnectedAsync() =>
        string.IsNullOrEmpty(Context.UserIdentifier)
            ? throw new HubException("Connect with ?user=NAME.")
            : Task.CompletedTask;

    /// <summary>Completes once the connection is in the group.</summary>
    public Task Join(string room) => Groups.AddToGroupAsync(Context.ConnectionId, room);

    /// <summary><c>message(room, body)</c> to every connection in the group, the caller's included.</summary>
    public Task Send(string room, string body) => Clients.Group(room).SendAsync("message", room, body);
}
