using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>
/// A message in one of the user's rooms, including the user's own. Per room, messages come in sequence order and
/// each at most once, across reconnections too; after a reconnection the missed ones come first.
/// </summary>
/// <param name="Message">The message.</param>
public sealed record MessageEvent(MessageInfo Message) : ChatEvent;
