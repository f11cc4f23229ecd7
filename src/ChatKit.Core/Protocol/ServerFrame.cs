namespace ChatKit.Protocol;

/// <summary>
/// A frame sent by the server: a reply (<c>reply</c>), an error (<c>error</c>) or an event, as documented
/// in <c>docs/protocol.md</c>. Fields that do not apply to the frame's type are <see langword="null"/>
/// and are left out of the JSON.
/// </summary>
public sealed class ServerFrame
{
    /// <summary><c>reply</c>, <c>error</c>, or an event type from <see cref="FrameTypes"/>.</summary>
    public string? Type { get; set; }

    /// <summary>The id of the request this frame answers.</summary>
    public string? Re { get; set; }

    /// <summary>Errors: the stable error code (see <see cref="ChatErrorCodes"/>).</summary>
    public string? Code { get; set; }

    /// <summary>Errors: a message for developers.</summary>
    public string? Message { get; set; }

    /// <summary>Rate-limit errors: how long to wait before sending again.</summary>
    public int? RetryAfterMs { get; set; }

    /// <summary>Welcome: the protocol version the server speaks.</summary>
    public int? Protocol { get; set; }

    /// <summary>A user id (the welcome's own user, or the subject of an event).</summary>
    public string? User { get; set; }

    /// <summary>A display name.</summary>
    public string? Name { get; set; }

    /// <summary>Welcome: the id of this connection.</summary>
    public string? Connection { get; set; }

    /// <summary>Welcome: the server's limits.</summary>
    public ProtocolLimits? Limits { get; set; }

    /// <summary>A list of rooms.</summary>
    public IReadOnlyList<RoomInfo>? Rooms { get; set; }

    /// <summary>One room, whole.</summary>
    public RoomInfo? Info { get; set; }

    /// <summary>A room id.</summary>
    public string? Room { get; set; }

    /// <summary>A sequence number.</summary>
    public long? Seq { get; set; }

    /// <summary>A client message id.</summary>
    public string? Cmid { get; set; }

    /// <summary>A message's sender.</summary>
    public string? Sender { get; set; }

    /// <summary><c>keys.low</c>: the device whose one-time prekeys run low.</summary>
    public string? Device { get; set; }

    /// <summary><c>keys.low</c>: how many one-time prekeys the device has left.</summary>
    public int? OneTimePreKeys { get; set; }

    /// <summary>A message's text.</summary>
    public string? Body { get; set; }

    /// <summary>When a message was stored.</summary>
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>Send: whether the message had already been stored under this client message id.</summary>
    public bool? Duplicate { get; set; }

    /// <summary>History: the page of messages, in ascending sequence order.</summary>
    public IReadOnlyList<MessageInfo>? Messages { get; set; }

    /// <summary>History: whether more messages lie in the paging direction.</summary>
    public bool? HasMore { get; set; }

    /// <summary>A list of members.</summary>
    public IReadOnlyList<MemberInfo>? Members { get; set; }

    /// <summary>One member.</summary>
    public MemberInfo? Member { get; set; }

    /// <summary>Why a member left: <c>left</c> or <c>removed</c>.</summary>
    public string? Reason { get; set; }

    /// <summary>Who removed a member.</summary>
    public string? By { get; set; }

    /// <summary>Typing: whether the user is typing.</summary>
    public bool? Active { get; set; }

    /// <summary>Receipt kind: <c>delivered</c> or <c>read</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>The read position of the caller in a room.</summary>
    public long? ReadSeq { get; set; }

    /// <summary>The delivered position of the caller in a room.</summary>
    public long? DeliveredSeq { get; set; }

    /// <summary>Messages after the read position.</summary>
    public long? Unread { get; set; }

    /// <summary>Presence: whether the user has a connection.</summary>
    public bool? Online { get; set; }

    /// <summary>Presence: when the user's last connection closed.</summary>
    public DateTimeOffset? LastSeen { get; set; }

    /// <summary>Presence of several users.</summary>
    public IReadOnlyList<PresenceInfo>? Presence { get; set; }

    /// <summary>User search results.</summary>
    public IReadOnlyList<UserInfo>? Users { get; set; }
}
