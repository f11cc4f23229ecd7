namespace ChatKit.Protocol;

/// <summary>
/// A request frame sent by a client, as documented in <c>docs/protocol.md</c>. One type carries
/// every request: which fields matter depends on <see cref="Type"/>; the others stay <see langword="null"/>.
/// </summary>
public sealed class ClientFrame
{
    /// <summary>The request type, one of <see cref="FrameTypes"/>.</summary>
    public string? Type { get; set; }

    /// <summary>The client's request id, echoed as <see cref="ServerFrame.Re"/> in the reply.</summary>
    public string? Id { get; set; }

    /// <summary>A room id.</summary>
    public string? Room { get; set; }

    /// <summary>The client's own message id, which makes a send idempotent.</summary>
    public string? Cmid { get; set; }

    /// <summary>The text of a message.</summary>
    public string? Body { get; set; }

    /// <summary>History: only messages with a lower sequence number.</summary>
    public long? Before { get; set; }

    /// <summary>History: only messages with a higher sequence number.</summary>
    public long? After { get; set; }

    /// <summary>The page size of a history or listing request.</summary>
    public int? Limit { get; set; }

    /// <summary>The name of a room being created.</summary>
    public string? Name { get; set; }

    /// <summary><c>public</c> or <c>private</c>.</summary>
    public string? Visibility { get; set; }

    /// <summary>User ids added when a room is created.</summary>
    public IList<string>? Members { get; set; }

    /// <summary>Room creation and direct conversations: <see langword="true"/> for an end-to-end encrypted room.</summary>
    public bool? Encrypted { get; set; }

    /// <summary>A user id (direct conversation, invite, remove).</summary>
    public string? User { get; set; }

    /// <summary>The role given by an invite: <c>member</c> or <c>admin</c>.</summary>
    public string? Role { get; set; }

    /// <summary>Typing: whether the user is typing.</summary>
    public bool? Active { get; set; }

    /// <summary>Receipt: the sequence number read or delivered.</summary>
    public long? Seq { get; set; }

    /// <summary>Receipt kind: <c>delivered</c> or <c>read</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>Presence: the users asked about.</summary>
    public IList<string>? Users { get; set; }

    /// <summary>User search: a prefix of a user id or name.</summary>
    public string? Query { get; set; }

    /// <summary>Hello: the highest sequence number the client has seen per room.</summary>
    public IDictionary<string, long>? Resume { get; set; }
}
