namespace ChatKit.Encryption;

/// <summary>A single-use ECDH P-256 prekey: the key directory hands each one out at most once.</summary>
/// <param name="Id">The prekey's id, unique on its device (never 0).</param>
/// <param name="PublicKey">The 65-byte uncompressed point.</param>
public sealed record OneTimePreKey(uint Id, byte[] PublicKey);
