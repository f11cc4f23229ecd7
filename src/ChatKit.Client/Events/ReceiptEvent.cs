using ChatKit.Model;

namespace ChatKit.Client;

/// <summary>A member's delivered or read position in a room moved forward.</summary>
/// <param name="Room">The room id.</param>
/// <param name="User">The member whose position moved.</param>
/// <param name="Kind">Whether the messages were delivered or read.</param>
/// <param name="Seq">The new position: every message up to it.</param>
public sealed record ReceiptEvent(string Room, string User, ReceiptKind Kind, long Seq) : ChatEvent;
