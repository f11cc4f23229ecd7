using System.Globalization;
using System.Text.Json;
using ChatKit.AspNetCore.Authentication;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;
using Microsoft.AspNetCore.Http;

namespace ChatKit.AspNetCore.Http;

/// <summary>The HTTP endpoints: rooms, members and history for clients that are not connected (or not yet).</summary>
internal sealed class ChatHttpEndpoints(ChatEngine engine, ChatUserResolver users)
{
    public Task GetRoomsAsync(HttpContext context) =>
        RunAsync(context, async user => (object)(await engine.GetRoomsAsync(user, context.RequestAborted).ConfigureAwait(false)).ToArray());

    public Task CreateRoomAsync(HttpContext context) => RunAsync(context, async user =>
    {
        CreateRoomRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<CreateRoomRequest>)ProtocolJson.Context.GetTypeInfo(typeof(CreateRoomRequest))!, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw new ChatException(ChatErrorCodes.MalformedFrame, $"The body must be a JSON object with 'name', 'visibility' and 'members': {ex.Message}", ex);
        }

        var room = await engine.CreateRoomAsync(user, request?.Name, request?.Visibility, request?.Members, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status201Created;
        return room;
    });

    public Task GetMembersAsync(HttpContext context, string room) =>
        RunAsync(context, async user => (object)(await engine.GetMembersAsync(user, room, context.RequestAborted).ConfigureAwait(false)).ToArray());

    public Task GetMessagesAsync(HttpContext context, string room) => RunAsync(context, async user =>
    {
        var query = context.Request.Query;
        var limit = Number(query, "limit");
        return await engine.GetHistoryAsync(user, room, Number(query, "before"), Number(query, "after"), limit > int.MaxValue ? int.MaxValue : (int?)limit, context.RequestAborted).ConfigureAwait(false);
    });

    private static long? Number(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ChatException(ChatErrorCodes.InvalidField, $"Query parameter '{name}' must be a non-negative integer.");
    }

    private async Task RunAsync(HttpContext context, Func<ChatUser, Task<object>> handler)
    {
        if (!users.TryResolve(context.User, out var user, out var problem))
        {
            await HttpErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, ChatErrorCodes.Unauthenticated, problem).ConfigureAwait(false);
            return;
        }

        object result;
        try
        {
            result = await handler(user).ConfigureAwait(false);
        }
        catch (ChatException ex)
        {
            await HttpErrors.WriteAsync(context, HttpErrors.StatusOf(ex.Code), ex.Code, ex.Message).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, result, ProtocolJson.Context.GetTypeInfo(result.GetType())!, context.RequestAborted).ConfigureAwait(false);
    }
}
