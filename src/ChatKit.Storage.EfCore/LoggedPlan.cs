using ChatKit.Model;

namespace ChatKit.Storage.EfCore;

/// <summary>
/// What <see cref="IChatStore.StoreLoggedMessagesAsync"/> does with each message, decided in order from what the store
/// holds (the rooms' counters, the stored client message ids and the messages at the list's sequences, read with the
/// rooms locked): each message sees the ones stored before it in the list. Both the PostgreSQL and the EF Core paths
/// read that state their own way and write <see cref="Stored"/>.
/// </summary>
internal sealed class LoggedPlan(
    Dictionary<string, long> latest,
    Dictionary<(string Room, string ClientMessageId), ChatMessage> byClientId,
    Dictionary<(string Room, long Sequence), ChatMessage> bySequence)
{
    /// <summary>The messages to store, in order, their times kept to the millisecond as the store keeps them.</summary>
    public List<ChatMessage> Stored { get; } = [];

    public List<LoggedMessageResult> Decide(IReadOnlyList<ChatMessage> messages)
    {
        var results = new List<LoggedMessageResult>(messages.Count);
        foreach (var message in messages)
        {
            var result = Decide(message);
            if (result.Outcome == LoggedMessageOutcome.Stored)
            {
                latest[message.RoomId] = message.Sequence;
                byClientId[(message.RoomId, message.ClientMessageId)] = result.Message;
                bySequence[(message.RoomId, message.Sequence)] = result.Message;
                Stored.Add(result.Message);
            }

            results.Add(result);
        }

        return results;
    }

    /// <summary>Each room's counter after the stored messages.</summary>
    public List<(string Room, long Latest)> Counters() =>
        [.. Stored.GroupBy(m => m.RoomId, StringComparer.Ordinal).Select(g => (g.Key, g.Max(m => m.Sequence)))];

    /// <summary>Each sender's newest stored message per room: their read position moves to it.</summary>
    public List<(string Room, string Sender, long Sequence)> Senders() =>
        [.. Stored.GroupBy(m => (m.RoomId, m.SenderId)).Select(g => (g.Key.RoomId, g.Key.SenderId, g.Max(m => m.Sequence)))];

    private LoggedMessageResult Decide(ChatMessage message)
    {
        if (!latest.TryGetValue(message.RoomId, out var last))
        {
            return new LoggedMessageResult(LoggedMessageOutcome.NoRoom, message);
        }

        if (byClientId.TryGetValue((message.RoomId, message.ClientMessageId), out var existing))
        {
            return new LoggedMessageResult(existing.Sequence == message.Sequence ? LoggedMessageOutcome.AlreadyStored : LoggedMessageOutcome.Duplicate, existing);
        }

        if (message.Sequence <= last)
        {
            return new LoggedMessageResult(LoggedMessageOutcome.SequenceTaken, bySequence.GetValueOrDefault((message.RoomId, message.Sequence), message));
        }

        return message.Sequence > last + 1
            ? new LoggedMessageResult(LoggedMessageOutcome.Gap, message)
            : new LoggedMessageResult(LoggedMessageOutcome.Stored, message with { SentAt = DateTimeOffset.FromUnixTimeMilliseconds(message.SentAt.ToUnixTimeMilliseconds()) });
    }
}
