using ChatKit.Model;

namespace ChatKit.Storage.EfCore;

/// <summary>
/// What a batch of appends must store: the messages already stored (a retry answers with them), the new ones by
/// room in arrival order (a client message id twice in one batch is stored once), and, once the room counters
/// have moved, their sequences.
/// </summary>
internal sealed class AppendPlan
{
    private readonly IReadOnlyList<NewMessage> _batch;
    private readonly IReadOnlyDictionary<(string RoomId, string ClientMessageId), ChatMessage> _stored;
    private readonly Dictionary<(string RoomId, string ClientMessageId), int> _firstOfKey = [];
    private readonly long[] _sequences;

    private AppendPlan(IReadOnlyList<NewMessage> batch, IReadOnlyDictionary<(string, string), ChatMessage> stored)
    {
        _batch = batch;
        _stored = stored;
        _sequences = new long[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            var key = (message.RoomId, message.ClientMessageId);
            if (stored.ContainsKey(key) || !_firstOfKey.TryAdd(key, i))
            {
                continue;
            }

            if (!NewByRoom.TryGetValue(message.RoomId, out var indexes))
            {
                NewByRoom[message.RoomId] = indexes = [];
            }

            indexes.Add(i);
        }
    }

    /// <summary>The messages to append, in arrival order.</summary>
    public IReadOnlyList<NewMessage> Batch => _batch;

    /// <summary>The indexes of new messages in the batch, by room in ordinal order.</summary>
    public SortedDictionary<string, List<int>> NewByRoom { get; } = new(StringComparer.Ordinal);

    public static AppendPlan Create(IReadOnlyList<NewMessage> batch, IReadOnlyDictionary<(string, string), ChatMessage> stored) => new(batch, stored);

    /// <summary>Numbers each room's new messages so they end at the room's counter after it was advanced by their count.</summary>
    public void AssignSequences(IReadOnlyDictionary<string, long> lastByRoom)
    {
        foreach (var (roomId, indexes) in NewByRoom)
        {
            if (!lastByRoom.TryGetValue(roomId, out var last))
            {
                throw new KeyNotFoundException($"Room '{roomId}' does not exist.");
            }

            for (var j = 0; j < indexes.Count; j++)
            {
                _sequences[indexes[j]] = last - indexes.Count + 1 + j;
            }
        }
    }

    /// <summary>The new messages with their sequences, by room, as they are stored (times in whole milliseconds).</summary>
    public List<ChatMessage> NewMessages() => NewByRoom.Values
        .SelectMany(indexes => indexes)
        .Select(i => Stored(_batch[i], _sequences[i]))
        .ToList();

    /// <summary>Each append's outcome in batch order.</summary>
    public AppendResult[] Results()
    {
        var results = new AppendResult[_batch.Count];
        for (var i = 0; i < _batch.Count; i++)
        {
            var message = _batch[i];
            var key = (message.RoomId, message.ClientMessageId);
            if (_stored.TryGetValue(key, out var existing))
            {
                results[i] = new AppendResult(existing, Duplicate: true);
                continue;
            }

            var first = _firstOfKey[key];
            results[i] = new AppendResult(Stored(_batch[first], _sequences[first]), Duplicate: first != i);
        }

        return results;
    }

    private static ChatMessage Stored(NewMessage message, long sequence) =>
        new(message.RoomId, sequence, message.ClientMessageId, message.SenderId, message.Body, DateTimeOffset.FromUnixTimeMilliseconds(message.SentAt.ToUnixTimeMilliseconds()));
}
