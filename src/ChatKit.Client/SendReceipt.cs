namespace ChatKit.Client;

/// <summary>The server's acknowledgement of a stored message.</summary>
public sealed class SendReceipt
{
    /// <summary>The room id.</summary>
    public required string Room { get; init; }

    /// <summary>The message's place in the room's order.</summary>
    public long Seq { get; init; }

    /// <summary>The client message id the message is stored under.</summary>
    public required string Cmid { get; init; }

    /// <summary>When the server stored the message (the first time, for a duplicate).</summary>
    public DateTimeOffset SentAt { get; init; }

    /// <summary>
    /// Whether a message with this client message id was already stored, so nothing new was stored. This is also
    /// <see langword="true"/> when the client retried after a lost reply and the first attempt had in fact been stored.
    /// </summary>
    public bool Duplicate { get; init; }
}
