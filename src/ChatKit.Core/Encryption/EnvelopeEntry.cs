namespace ChatKit.Encryption;

/// <summary>One pairwise message of an <see cref="EncryptedEnvelope"/>.</summary>
/// <param name="User">The receiving user.</param>
/// <param name="Device">The receiving device.</param>
/// <param name="Message">The ratchet (or prekey) message for that device.</param>
public sealed record EnvelopeEntry(string User, string Device, byte[] Message);
