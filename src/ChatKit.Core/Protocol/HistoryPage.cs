namespace ChatKit.Protocol;

/// <summary>A page of a room's history, as the HTTP history endpoint returns it.</summary>
public sealed class HistoryPage
{
    /// <summary>The room id.</summary>
    public required string Room { get; init; }

    /// <summary>The messages, in ascending sequence order.</summary>
    public required IReadOnlyList<MessageInfo> Messages { get; init; }

    /// <summary>Whether more messages lie in the paging direction.</summary>
    public bool HasMore { get; init; }
}
