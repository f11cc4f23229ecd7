namespace ChatKit.Model;

/// <summary>Which messages of a room a history query returns.</summary>
/// <param name="After">Only sequences greater than this; the page then starts at the oldest such message.</param>
/// <param name="Before">Only sequences lower than this; without <paramref name="After"/>, the page is the newest such messages.</param>
/// <param name="Limit">The most messages to return (at least 1).</param>
public readonly record struct MessageRange(long? After, long? Before, int Limit)
{
    /// <summary>Whether the page is taken from the newest end (no <see cref="After"/>).</summary>
    public bool FromNewest => After is null;
}
