using Microsoft.AspNetCore.SignalR;

namespace ChatKit.Peers.SignalR;

/// <summary>The user is the query parameter <c>user</c>: the peers read a name and authenticate nothing.</summary>
internal sealed class QueryUserIdProvider : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection) =>
        connection.GetHttpContext()?.Request.Query["user"].ToString() is { Length: > 0 } user ? user : null;
}
