namespace ChatKit.Protocol;

/// <summary>A stored message as clients receive it.</summary>
public sealed class MessageInfo
{
    /// <summary>The room id.</summary>
    public required string Room { get; init; }

    /// <summary>The message's place in the room's order: 1, 2, 3, ... with no gap.</summary>
    public long Seq { get; init; }

    /// <summary>The client message id it was sent with.</summary>
    public required string Cmid { get; init; }

    /// <summary>The sender's user id.</summary>
    public required string Sender { get; init; }

    /// <summary>The text.</summary>
    public required string Body { get; init; }

    /// <summary>When the server stored it.</summary>
    public DateTimeOffset SentAt { get; init; }
}
