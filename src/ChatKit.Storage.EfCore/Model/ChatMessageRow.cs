namespace ChatKit.Storage.EfCore.Model;

/// <summary>Table <c>chatkit_messages</c>: a stored message, keyed by (room, sequence).</summary>
public sealed class ChatMessageRow
{
    /// <summary>The room id.</summary>
    public required string RoomId { get; set; }

    /// <summary>The message's sequence in the room.</summary>
    public long Sequence { get; set; }

    /// <summary>The client message id; unique per room.</summary>
    public required string ClientMessageId { get; set; }

    /// <summary>The sender's user id.</summary>
    public required string SenderId { get; set; }

    /// <summary>The text (ciphertext in encrypted rooms).</summary>
    public required string Body { get; set; }

    /// <summary>When the message was stored, in Unix milliseconds.</summary>
    public long SentAtMs { get; set; }
}
