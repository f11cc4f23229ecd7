namespace ChatKit.Model;

/// <summary>What <see cref="ChatKit.Storage.IChatStore.StoreLoggedMessagesAsync"/> did with one message whose sequence a durable log assigned.</summary>
public enum LoggedMessageOutcome
{
    /// <summary>Stored now.</summary>
    Stored,

    /// <summary>Already stored at that sequence with the same client message id (a repeat): nothing changed.</summary>
    AlreadyStored,

    /// <summary>The room already has this client message id at another sequence; <see cref="LoggedMessageResult.Message"/> is that one. Nothing stored.</summary>
    Duplicate,

    /// <summary>Another message holds that sequence; <see cref="LoggedMessageResult.Message"/> is it. Nothing stored.</summary>
    SequenceTaken,

    /// <summary>The sequence is past the room's next one (an earlier message is not stored yet). Nothing stored.</summary>
    Gap,

    /// <summary>The room does not exist. Nothing stored.</summary>
    NoRoom,
}

/// <summary>One message's outcome; <see cref="Message"/> is the message as stored (or the one in its way).</summary>
public sealed record LoggedMessageResult(LoggedMessageOutcome Outcome, ChatMessage Message);
