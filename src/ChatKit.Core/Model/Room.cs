namespace ChatKit.Model;

/// <summary>A room: a group room or a direct conversation.</summary>
/// <param name="Id">The room id, made by the server.</param>
/// <param name="Kind">Group or direct.</param>
/// <param name="Name">The room's name (empty for direct conversations, whose name is the other user's).</param>
/// <param name="Visibility">Who may join.</param>
/// <param name="CreatedBy">The creator's user id.</param>
/// <param name="CreatedAt">When the room was created.</param>
/// <param name="Encrypted">
/// Whether the room is end-to-end encrypted: set at creation, never changed. Its message bodies are ciphertext
/// envelopes (see docs/encryption.md) and the server refuses any other body.
/// </param>
public sealed record Room(string Id, RoomKind Kind, string Name, RoomVisibility Visibility, string CreatedBy, DateTimeOffset CreatedAt, bool Encrypted = false);
