namespace ChatKit.Model;

/// <summary>The outcome of storing a message.</summary>
/// <param name="Message">The stored message: the new one, or the one stored earlier with the same client message id.</param>
/// <param name="Duplicate">Whether a message with that client message id was already stored (nothing new was stored).</param>
public sealed record AppendResult(ChatMessage Message, bool Duplicate);
