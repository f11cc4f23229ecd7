using ChatKit.Model;

namespace ChatKit.Client;

/// <summary>The protocol's spelling of the enums requests take.</summary>
internal static class WireNames
{
    public static string Of(RoomVisibility visibility) => visibility switch
    {
        RoomVisibility.Private => "private",
        RoomVisibility.Public => "public",
        _ => throw new ArgumentOutOfRangeException(nameof(visibility), visibility, "A room is public or private."),
    };

    public static string OfInvite(MemberRole role) => role switch
    {
        MemberRole.Member => "member",
        MemberRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "An invite gives the role member or admin; the owner is always the room's creator."),
    };

    public static string Of(ReceiptKind kind) => kind switch
    {
        ReceiptKind.Delivered => "delivered",
        ReceiptKind.Read => "read",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "A receipt is delivered or read."),
    };
}
