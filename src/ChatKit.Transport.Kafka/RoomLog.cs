using ChatKit.Model;

namespace ChatKit.Transport.Kafka;

/// <summary>What a partition writer knows of one room: its latest sequence and its recent client message ids.</summary>
internal sealed class RoomLog(int partition)
{
    /// <summary>How many recent client message ids a writer keeps per room to answer retried sends.</summary>
    public const int RecentIds = 1024;

    private readonly Dictionary<string, ChatMessage> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public int Partition { get; } = partition;

    public long Latest { get; set; }

    /// <summary>Whether the store's latest sequence has been taken into account.</summary>
    public bool Checked { get; set; }

    /// <summary>Whether the log's tail (what the store worker has not confirmed) mentioned the room.</summary>
    public bool Scanned { get; set; }

    public bool TryGetRecent(string clientMessageId, out ChatMessage message) => _recent.TryGetValue(clientMessageId, out message!);

    public void Remember(ChatMessage message)
    {
        if (_recent.TryAdd(message.ClientMessageId, message))
        {
            _order.Enqueue(message.ClientMessageId);
            if (_order.Count > RecentIds)
            {
                _recent.Remove(_order.Dequeue());
            }
        }
        else
        {
            _recent[message.ClientMessageId] = message;
        }

        Latest = Math.Max(Latest, message.Sequence);
    }
}
