using ChatKit.AspNetCore.Http;
using ChatKit.AspNetCore.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps ChatKit's endpoints.</summary>
public static class ChatKitEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the ChatKit WebSocket at <paramref name="pattern"/> and the HTTP endpoints under it
    /// (<c>{pattern}/rooms</c>, <c>{pattern}/rooms/{room}/members</c>, <c>{pattern}/rooms/{room}/messages</c>, and the
    /// end-to-end encryption key directory under <c>{pattern}/keys</c>; docs/protocol.md lists them).
    /// Requires <c>app.UseWebSockets()</c> and the host's authentication middleware before it.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">The route, for example <c>"/chat"</c>.</param>
    /// <returns>The route group, to add conventions such as <c>RequireCors</c>.</returns>
    public static RouteGroupBuilder MapChatKit(this IEndpointRouteBuilder endpoints, string pattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        if (endpoints.ServiceProvider.GetService<ChatWebSocketHandler>() is null)
        {
            throw new InvalidOperationException("ChatKit's services are missing: call services.AddChatKit() before app.MapChatKit(...).");
        }

        var group = endpoints.MapGroup(pattern);
        group.Map(string.Empty, (HttpContext context, ChatWebSocketHandler handler) => handler.HandleAsync(context)).WithMetadata(ChatKitWebSocketEndpoint.Instance);
        group.MapGet("/rooms", (HttpContext context, ChatHttpEndpoints http) => http.GetRoomsAsync(context));
        group.MapPost("/rooms", (HttpContext context, ChatHttpEndpoints http) => http.CreateRoomAsync(context));
        group.MapGet("/rooms/{room}/members", (HttpContext context, string room, ChatHttpEndpoints http) => http.GetMembersAsync(context, room));
        group.MapGet("/rooms/{room}/messages", (HttpContext context, string room, ChatHttpEndpoints http) => http.GetMessagesAsync(context, room));
        group.MapPut("/keys/devices/{device}", (HttpContext context, string device, ChatHttpEndpoints http) => http.PublishDeviceAsync(context, device));
        group.MapGet("/keys/devices/{device}", (HttpContext context, string device, ChatHttpEndpoints http) => http.GetDeviceStatusAsync(context, device));
        group.MapDelete("/keys/devices/{device}", (HttpContext context, string device, ChatHttpEndpoints http) => http.RemoveDeviceAsync(context, device));
        group.MapPost("/keys/devices/{device}/prekeys", (HttpContext context, string device, ChatHttpEndpoints http) => http.AddPreKeysAsync(context, device));
        group.MapGet("/keys/users/{user}", (HttpContext context, string user, ChatHttpEndpoints http) => http.GetDevicesAsync(context, user));
        group.MapPost("/keys/users/{user}/devices/{device}/bundle", (HttpContext context, string user, string device, ChatHttpEndpoints http) => http.ClaimBundleAsync(context, user, device));
        return group;
    }
}
