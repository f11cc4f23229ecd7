namespace ChatKit.Model;

/// <summary>How far a user has received and read a room.</summary>
/// <param name="DeliveredSequence">The highest sequence delivered to one of the user's devices.</param>
/// <param name="ReadSequence">The highest sequence the user has read.</param>
public readonly record struct ReadState(long DeliveredSequence, long ReadSequence);
