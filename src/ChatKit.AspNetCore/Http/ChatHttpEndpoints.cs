using System.Globalization;
using System.Text.Json;
using ChatKit.AspNetCore.Authentication;
using ChatKit.Engine;
using ChatKit.Keys;
using ChatKit.Model;
using ChatKit.Protocol;
using Microsoft.AspNetCore.Http;

namespace ChatKit.AspNetCore.Http;

/// <summary>The HTTP endpoints: rooms, members and history for clients that are not connected (or not yet).</summary>
internal sealed class ChatHttpEndpoints(ChatEngine engine, KeyDirectory keys, ChatUserResolver users)
{
    public Task GetRoomsAsync(HttpContext context) =>
        RunAsync(context, async user => (object)(await engine.GetRoomsAsync(user, context.RequestAborted).ConfigureAwait(false)).ToArray());

    public Task CreateRoomAsync(HttpContext context) => RunAsync(context, async user =>
    {
        var request = await ReadAsync<CreateRoomRequest>(context, "'name', 'visibility', 'members' and 'encrypted'").ConfigureAwait(false);

        var room = await engine.CreateRoomAsync(user, request?.Name, request?.Visibility, request?.Members, request?.Encrypted == true, context.RequestAborted).ConfigureAwait(false);
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

    public Task PublishDeviceAsync(HttpContext context, string device) => RunAsync(context, async user =>
        (object)await keys.PublishAsync(user, device, await ReadAsync<DeviceKeysUpload>(context, "'identity', 'signedPreKey' and 'oneTimePreKeys'").ConfigureAwait(false), context.RequestAborted).ConfigureAwait(false));

    public Task AddPreKeysAsync(HttpContext context, string device) => RunAsync(context, async user =>
        (object)await keys.AddOneTimePreKeysAsync(user, device, await ReadAsync<DeviceKeysUpload>(context, "'oneTimePreKeys'").ConfigureAwait(false), context.RequestAborted).ConfigureAwait(false));

    public Task GetDeviceStatusAsync(HttpContext context, string device) =>
        RunAsync(context, async user => (object)await keys.GetStatusAsync(user, device, context.RequestAborted).ConfigureAwait(false));

    public Task RemoveDeviceAsync(HttpContext context, string device) => RunAsync(context, async user =>
    {
        await keys.RemoveDeviceAsync(user, device, context.RequestAborted).ConfigureAwait(false);
        return null;
    });

    public Task GetDevicesAsync(HttpContext context, string userId) =>
        RunAsync(context, async user => (object)await keys.GetDevicesAsync(user, userId, context.RequestAborted).ConfigureAwait(false));

    public Task ClaimBundleAsync(HttpContext context, string userId, string device) =>
        RunAsync(context, async user => (object)await keys.ClaimBundleAsync(user, userId, device, context.RequestAborted).ConfigureAwait(false));

    private static async Task<T?> ReadAsync<T>(HttpContext context, string fields)
        where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(context.Request.Body, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)ProtocolJson.Context.GetTypeInfo(typeof(T))!, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw new ChatException(ChatErrorCodes.MalformedFrame, $"The body must be a JSON object with {fields}: {ex.Message}", ex);
        }
    }

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

    private async Task RunAsync(HttpContext context, Func<ChatUser, Task<object?>> handler)
    {
        if (!users.TryResolve(context.User, out var user, out var problem))
        {
            await HttpErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, ChatErrorCodes.Unauthenticated, problem).ConfigureAwait(false);
            return;
        }

        object? result;
        try
        {
            result = await handler(user).ConfigureAwait(false);
        }
        catch (ChatException ex)
        {
            await HttpErrors.WriteAsync(context, HttpErrors.StatusOf(ex.Code), ex.Code, ex.Message).ConfigureAwait(false);
            return;
        }

        if (result is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, result, ProtocolJson.Context.GetTypeInfo(result.GetType())!, context.RequestAborted).ConfigureAwait(false);
    }
}
