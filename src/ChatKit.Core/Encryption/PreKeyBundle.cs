namespace ChatKit.Encryption;

/// <summary>What a device needs to start a session with another device without it being online.</summary>
/// <param name="Identity">The other device's identity.</param>
/// <param name="SignedPreKey">Its current signed prekey.</param>
/// <param name="OneTimePreKey">One of its one-time prekeys, or null when the directory has none left (the handshake then runs without one).</param>
public sealed record PreKeyBundle(DeviceIdentityKey Identity, SignedPreKey SignedPreKey, OneTimePreKey? OneTimePreKey)
{
    /// <summary>Checks every key and signature; throws <see cref="EncryptionException"/> when any is wrong.</summary>
    public void Verify()
    {
        Identity.Verify();
        SignedPreKey.Verify(Identity);
        if (OneTimePreKey is not null)
        {
            P256.Validate(OneTimePreKey.PublicKey);
        }
    }
}
