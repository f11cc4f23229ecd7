namespace ChatKit.Encryption;

/// <summary>The codes of <see cref="EncryptionException"/>; docs/encryption.md lists what each means.</summary>
public static class EncryptionErrorCodes
{
    /// <summary>A public key is not a valid uncompressed P-256 point, or a private key is not a valid scalar.</summary>
    public const string InvalidKey = "invalid_key";

    /// <summary>A signature (device identity, signed prekey, sender key message) does not verify.</summary>
    public const string BadSignature = "bad_signature";

    /// <summary>The bytes are not a ChatKit encrypted message, key or state of a known kind and version.</summary>
    public const string Malformed = "malformed";

    /// <summary>The message's authentication code does not verify: it was altered, or sent under other keys or associated data.</summary>
    public const string NotAuthentic = "not_authentic";

    /// <summary>The message's key was already used or dropped: a replay, or a message older than the skipped-key store keeps.</summary>
    public const string Replayed = "replayed";

    /// <summary>The message is further ahead of its chain than <c>MaxSkip</c> allows.</summary>
    public const string TooFarAhead = "too_far_ahead";

    /// <summary>The message needs a one-time or signed prekey this device no longer has.</summary>
    public const string UnknownPreKey = "unknown_prekey";

    /// <summary>A handshake comes from a device the key directory does not list for its user with those keys.</summary>
    public const string UnknownDevice = "unknown_device";

    /// <summary>A group message uses a sender key this device has not received.</summary>
    public const string UnknownSenderKey = "unknown_sender_key";
}
