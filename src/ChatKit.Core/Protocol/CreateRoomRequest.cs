namespace ChatKit.Protocol;

/// <summary>The JSON body of <c>POST {pattern}/rooms</c>.</summary>
public sealed class CreateRoomRequest
{
    /// <summary>The room's name.</summary>
    public string? Name { get; set; }

    /// <summary><c>public</c> or <c>private</c> (default).</summary>
    public string? Visibility { get; set; }

    /// <summary>User ids to add as members.</summary>
    public IList<string>? Members { get; set; }

    /// <summary>Room creation and direct conversations: <see langword="true"/> for an end-to-end encrypted room.</summary>
    public bool? Encrypted { get; set; }
}
