using ChatKit.Model;

namespace ChatKit.Engine;

/// <summary>The protocol's spelling of the model's enums.</summary>
internal static class WireNames
{
    public static string Of(RoomKind kind) => kind == RoomKind.Direct ? "direct" : "group";

    public static string Of(RoomVisibility visibility) => visibility == RoomVisibility.Public ? "public" : "private";

    public static string Of(MemberRole role) => role switch
    {
        MemberRole.Owner => "owner",
        MemberRole.Admin => "admin",
        _ => "member",
    };

    public static string Of(ReceiptKind kind) => kind == ReceiptKind.Read ? "read" : "delivered";
}
