using System.Text;
using ChatKit.Model;
using ChatKit.Protocol;

namespace ChatKit.Engine;

/// <summary>Checks request fields before they reach a store, so adapters only ever see valid, bounded values.</summary>
internal static class InputRules
{
    public const int MaxRoomIdLength = 64;
    public const int MaxUserIdLength = 128;
    public const int MaxClientMessageIdLength = 64;
    public const int MaxRequestIdLength = 64;
    public const int MaxDeviceIdLength = 64;
    public const int MaxUsersPerRequest = 100;

    public static string RoomId(string? value)
    {
        var id = Required(value, "room");
        if (id.Length > MaxRoomIdLength || HasControl(id))
        {
            throw Invalid($"Field 'room' must be a room id of at most {MaxRoomIdLength} characters.");
        }

        return id;
    }

    public static string UserId(string? value, string field = "user")
    {
        var id = Required(value, field);
        if (id.Length > MaxUserIdLength || HasControl(id))
        {
            throw Invalid($"Field '{field}' must be a user id of at most {MaxUserIdLength} characters without control characters.");
        }

        return id;
    }

    public static string ClientMessageId(string? value)
    {
        var id = Required(value, "cmid");
        if (id.Length > MaxClientMessageIdLength || !id.All(IsClientIdChar))
        {
            throw Invalid($"Field 'cmid' must be 1 to {MaxClientMessageIdLength} characters from A-Z a-z 0-9 - _ . :");
        }

        return id;
    }

    public static string DeviceId(string? value, string field = "device")
    {
        var id = Required(value, field);
        if (id.Length > MaxDeviceIdLength || !id.All(IsClientIdChar))
        {
            throw Invalid($"Field '{field}' must be 1 to {MaxDeviceIdLength} characters from A-Z a-z 0-9 - _ . :");
        }

        return id;
    }

    public static string Body(string? value, int maxBytes)
    {
        var body = Required(value, "body");
        if (body.Length > maxBytes || Encoding.UTF8.GetByteCount(body) > maxBytes)
        {
            throw new ChatException(ChatErrorCodes.MessageTooLarge, $"Field 'body' is longer than the limit of {maxBytes} UTF-8 bytes.");
        }

        return body;
    }

    public static string RoomName(string? value, int maxLength)
    {
        var name = Required(value?.Trim(), "name");
        if (name.Length > maxLength || HasControl(name))
        {
            throw Invalid($"Field 'name' must be 1 to {maxLength} characters without control characters.");
        }

        return name;
    }

    public static IReadOnlyList<string> UserIds(IList<string>? values, string field, bool required)
    {
        if (values is null || values.Count == 0)
        {
            return required ? throw new ChatException(ChatErrorCodes.MissingField, $"Field '{field}' is required and must list at least one user id.") : [];
        }

        if (values.Count > MaxUsersPerRequest)
        {
            throw Invalid($"Field '{field}' lists {values.Count} users; at most {MaxUsersPerRequest} are allowed.");
        }

        return values.Select(v => UserId(v, field)).Distinct(StringComparer.Ordinal).ToList();
    }

    public static RoomVisibility Visibility(string? value) => value switch
    {
        null or "private" => RoomVisibility.Private,
        "public" => RoomVisibility.Public,
        _ => throw Invalid("Field 'visibility' must be 'public' or 'private'."),
    };

    public static MemberRole InviteRole(string? value) => value switch
    {
        null or "member" => MemberRole.Member,
        "admin" => MemberRole.Admin,
        _ => throw Invalid("Field 'role' must be 'member' or 'admin'."),
    };

    public static ReceiptKind Receipt(string? value) => value switch
    {
        "read" => ReceiptKind.Read,
        "delivered" => ReceiptKind.Delivered,
        null or "" => throw new ChatException(ChatErrorCodes.MissingField, "Field 'kind' is required: 'delivered' or 'read'."),
        _ => throw Invalid("Field 'kind' must be 'delivered' or 'read'."),
    };

    public static int Limit(int? value, int defaultValue, int max)
    {
        if (value is null)
        {
            return defaultValue;
        }

        return value is >= 1 && value <= max ? value.Value : throw Invalid($"Field 'limit' must be between 1 and {max}.");
    }

    public static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new ChatException(ChatErrorCodes.MissingField, $"Field '{field}' is required.") : value;

    public static ChatException Invalid(string message) => new(ChatErrorCodes.InvalidField, message);

    private static bool HasControl(string value) => value.Any(char.IsControl);

    private static bool IsClientIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':';
}
