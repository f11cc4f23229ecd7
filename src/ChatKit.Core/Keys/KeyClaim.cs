using ChatKit.Encryption;

namespace ChatKit.Keys;

/// <summary>A claimed bundle and how many one-time prekeys its device has left after the claim.</summary>
/// <param name="Bundle">The bundle.</param>
/// <param name="Remaining">The one-time prekeys left.</param>
public sealed record KeyClaim(PreKeyBundle Bundle, int Remaining);
