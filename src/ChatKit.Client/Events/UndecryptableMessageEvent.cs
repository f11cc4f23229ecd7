using ChatKit.Encryption;
using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>
/// An encrypted message this device cannot read (from <see cref="EndToEndEncryption.ReadEventsAsync"/>): not meant for
/// it, altered, replayed, or from a sender key it never got. Show it as such; nothing else changed.
/// </summary>
/// <param name="Message">The message, with its encrypted body.</param>
/// <param name="Error">Why it cannot be read: an <see cref="EncryptionException"/> (its <see cref="EncryptionException.Code"/> is one of <see cref="EncryptionErrorCodes"/>), or the failure of the key directory or the state store while reading it (nothing was kept; it may decrypt on a later try).</param>
public sealed record UndecryptableMessageEvent(MessageInfo Message, Exception Error) : ChatEvent;
